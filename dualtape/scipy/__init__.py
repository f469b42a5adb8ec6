"""Drop-in SciPy namespaces for traced values.

SciPy's ufuncs (``scipy.special.erf``...) dispatch to dualtape by themselves. SciPy's
other functions convert their inputs with ``np.asarray`` and cannot see a traced value;
for those, change one import::

    from dualtape.scipy.special import logsumexp      # instead of scipy.special
    import dualtape.scipy.linalg as sla               # instead of scipy.linalg

Every name of the SciPy module is re-exported; the ones with dualtape rules are
wrapped so that traced inputs go to the rules and plain inputs to SciPy unchanged.
"""
