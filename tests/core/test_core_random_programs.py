"""Random compositions of primitives: forward == reverse == finite differences.

(The full fuzzer with shapes, axes and indexing lives in tests/reliability.)
"""

import numpy as np
from hypothesis import example, given
from hypothesis import strategies as st

import dualtape as dt

UNARY = [
    ("sin", np.sin), ("tanh", np.tanh), ("exp_small", lambda x: np.exp(0.3 * x)),
    ("log_pos", lambda x: np.log(x * x + 0.5)), ("sqrt_pos", lambda x: np.sqrt(x * x + 1.0)),
    ("square", np.square), ("arctan", np.arctan), ("neg", lambda x: -x),
    ("cumsum", np.cumsum), ("flip", lambda x: x[::-1]), ("roll_concat", lambda x:
                                                          np.concatenate([x[1:], x[:1]])),
]
BINARY = [
    ("add", np.add), ("mul", np.multiply), ("sub", np.subtract),
    ("div_safe", lambda a, b: a / (b * b + 1.0)), ("max", np.maximum),
    ("hypot", lambda a, b: np.hypot(a, b + 3.0)),
]
REDUCE = [("sum", np.sum), ("mean", np.mean), ("max", np.max), ("prod_small",
                                                                  lambda x: np.prod(0.5 * x))]


@st.composite
def programs(draw):
    """A program: a list of steps over a stack of vectors of length n."""
    n = draw(st.integers(1, 4))
    depth = draw(st.integers(1, 8))
    steps = []
    for _ in range(depth):
        kind = draw(st.sampled_from(["unary", "binary"]))
        if kind == "unary":
            steps.append(("unary", draw(st.integers(0, len(UNARY) - 1))))
        else:
            steps.append(("binary", draw(st.integers(0, len(BINARY) - 1)),
                          draw(st.integers(0, 3))))
    reduce = draw(st.integers(0, len(REDUCE) - 1))
    x = draw(st.lists(st.floats(-1.5, 1.5), min_size=n, max_size=n))
    return steps, reduce, np.array(x)


def run(program, x):
    steps, reduce, _ = program
    stack = [x]
    for step in steps:
        if step[0] == "unary":
            stack.append(UNARY[step[1]][1](stack[-1]))
        else:
            other = stack[-1 - min(step[2], len(stack) - 1)]
            stack.append(BINARY[step[1]][1](stack[-1], other))
    return stack[-1], REDUCE[reduce][1](stack[-1])


def smooth_fd(f, x, h=1e-6):
    """Central differences, or None where the program is not smooth at x (a kink of max:
    the one-sided differences then disagree), since no derivative exists to compare with."""
    f0 = np.ravel(f(x))
    fwd = np.stack([(np.ravel(f(x + h * e)) - f0) / h for e in np.eye(x.size)], axis=-1)
    bwd = np.stack([(f0 - np.ravel(f(x - h * e))) / h for e in np.eye(x.size)], axis=-1)
    return (fwd + bwd) / 2 if np.allclose(fwd, bwd, rtol=1e-3, atol=1e-3) else None


@given(programs())
@example(program=([("binary", 0, 0), ("binary", 4, 1), ("unary", 0)], 0,
                  np.array([2.22044605e-16])))  # a kink of maximum at 0
def test_vector_programs_agree_across_modes(program):
    x = program[2]
    f = lambda x: run(program, x)[0]
    J_fwd = dt.jacfwd(f)(x)
    J_rev = dt.jacrev(f)(x)
    np.testing.assert_allclose(J_fwd, J_rev, rtol=1e-9, atol=1e-9)
    fd = smooth_fd(f, x)
    if fd is not None and np.abs(J_fwd).max() < 1e6:
        np.testing.assert_allclose(J_fwd, fd, rtol=1e-4, atol=1e-5)


@given(programs())
def test_scalar_programs_hessians_agree(program):
    x = program[2]
    f = lambda x: run(program, x)[1]
    H = dt.hessian(f)(x)
    np.testing.assert_allclose(H, dt.jacrev(dt.grad(f))(x), rtol=1e-8, atol=1e-8)
    np.testing.assert_allclose(H, dt.jacfwd(dt.jacfwd(f))(x), rtol=1e-8, atol=1e-8)
    np.testing.assert_allclose(H, H.T, rtol=1e-8, atol=1e-8)
