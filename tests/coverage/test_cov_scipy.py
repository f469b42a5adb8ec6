"""SciPy: ufuncs dispatch unchanged; the non-ufuncs go through the drop-in modules,
which return SciPy's own results for plain inputs; calling SciPy's originals on traced
values raises an error naming the import to change."""

import numpy as np
import pytest
import scipy.linalg as sla
import scipy.special as sc

import dualtape as dt
import dualtape.scipy.linalg as dsla
import dualtape.scipy.special as dsc

A = np.array([[4.0, 1.0, 0.5], [1.0, 3.0, 0.2], [0.5, 0.2, 2.0]])


def test_drop_ins_equal_scipy_on_plain_inputs():
    x = np.array([0.3, -1.2, 2.5])
    assert dsc.logsumexp(x) == sc.logsumexp(x)
    np.testing.assert_array_equal(dsc.softmax(x), sc.softmax(x))
    np.testing.assert_array_equal(dsla.expm(A), sla.expm(A))
    np.testing.assert_array_equal(dsla.cho_factor(A)[0], sla.cho_factor(A)[0])
    assert dsc.erf is sc.erf and dsla.lu_factor is sla.lu_factor  # the rest is SciPy's own


def test_drop_in_values_match_scipy_on_traced_inputs():
    x = np.array([0.3, -1.2, 2.5])
    out, _ = dt.jvp(lambda x: dsc.logsumexp(x, b=np.array([1.0, -0.5, 2.0]),
                                            return_sign=True)[0], (x,), (np.ones(3),))
    np.testing.assert_allclose(out, sc.logsumexp(x, b=np.array([1.0, -0.5, 2.0]),
                                                 return_sign=True)[0])
    c = dt.jvp(lambda a: dsla.cho_factor(a, lower=True)[0], (A,), (np.eye(3),))[0]
    np.testing.assert_allclose(c, sla.cho_factor(A, lower=True)[0])
    for n in (0, 1, 3):
        value = dt.jvp(lambda x, n=n: dsc.polygamma(n, x), (x + 3.0,), (np.ones(3),))[0]
        np.testing.assert_allclose(value, sc.polygamma(n, x + 3.0))
        np.testing.assert_allclose(dt.grad(lambda x, n=n: np.sum(dsc.polygamma(n, x)))(x + 3.0),
                                   sc.polygamma(n + 1, x + 3.0), rtol=1e-10)


@pytest.mark.parametrize("call,name", [
    (lambda x: sc.logsumexp(x), "from dualtape.scipy.special import logsumexp"),
    (lambda x: sc.softmax(x).sum(), "from dualtape.scipy.special import softmax"),
    (lambda x: sla.expm(np.diag(x)).sum(), "from dualtape.scipy.linalg import expm"),
    (lambda x: sla.cho_factor(np.diag(x))[0].sum(),
     "from dualtape.scipy.linalg import cho_factor"),
])
def test_scipy_originals_name_the_import_to_change(call, name):
    with pytest.raises(dt.TracerConversionError, match=name):
        dt.grad(call)(np.array([1.0, 2.0, 3.0]))


def test_scipy_function_without_drop_in_says_so():
    with pytest.raises(dt.TracerConversionError, match=r"scipy\.linalg\.lu_factor.*no drop-in"):
        dt.grad(lambda x: sla.lu_factor(np.diag(x))[0].sum())(np.ones(3))


def test_parameters_that_are_not_differentiable_raise():
    with pytest.raises(dt.NoRuleError, match="gammainc with respect to argument 0"):
        dt.grad(lambda a: sc.gammainc(a, 2.0))(1.5)
    with pytest.raises(dt.NoRuleError, match="jv"):
        dt.grad(lambda v: sc.jv(v, 2.0))(1.5)
    np.testing.assert_allclose(dt.grad(lambda x: sc.gammainc(1.5, x))(2.0),
                               np.exp(0.5 * np.log(2.0) - 2.0 - sc.gammaln(1.5)))


def test_scipy_ufuncs_dispatch_unchanged_in_both_modes():
    f = lambda x: np.sum(sc.erf(x) * sc.gammaln(x + 2.0) + sc.xlogy(x, x + 1.0)
                         + sc.i0e(x) + sc.ndtri(sc.expit(x)))
    dt.check_grads(f, (np.array([0.3, 0.9, 1.7]),), order=2, modes=("fwd", "rev"))
