"""scipy.optimize with exact derivatives from dualtape (see issue: solvers)."""
