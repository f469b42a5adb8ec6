"""dualtape.study.trace: the Wengert list with its forward and reverse sweeps.

The textbook example must reproduce the literature (Griewank & Walther 2008; Baydin
et al. 2018, y = ln(x1) + x1 x2 - sin(x2) at (2, 5)): y = 11.652, dy/dx1 = 5.5,
dy/dx2 = 1.716, and every intermediate tangent and adjoint of their tables.
"""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import dualtape as dt
from dualtape.study import EXAMPLES, to_dot, trace

TEXTBOOK = EXAMPLES["textbook"].fn


def r3(v):
    return round(float(np.asarray(v)), 3)


def test_textbook_literature_values():
    t = trace(TEXTBOOK, (2.0, 5.0))
    assert r3(t.value) == 11.652
    assert [r3(g) for g in t.gradient] == [5.5, 1.716]


def test_textbook_wengert_list():
    t = trace(TEXTBOOK, (2.0, 5.0))
    assert t.names == ["v-1", "v0", "v1", "v2", "v3", "v4", "v5"]
    assert t.definitions == ["x1", "x2", "log(v-1)", "v-1 * v0", "v1 + v2", "sin(v0)",
                             "v3 - v4"]
    assert [r3(v) for v in t.values] == [2.0, 5.0, 0.693, 10.0, 10.693, -0.959, 11.652]


def test_textbook_forward_sweep_matches_the_tables():
    t = trace(TEXTBOOK, (2.0, 5.0))
    # seed x1 (Baydin et al., forward table): 1, 0, 1/2, 5, 5.5, 0, 5.5
    assert [r3(tan[0]) for tan in t.tangents] == [1.0, 0.0, 0.5, 5.0, 5.5, 0.0, 5.5]
    # seed x2: 0, 1, 0, 2, 2, cos 5, 2 - cos 5
    assert [r3(tan[1]) for tan in t.tangents] == [0.0, 1.0, 0.0, 2.0, 2.0, 0.284, 1.716]
    assert np.allclose(t.jacobian_forward, t.gradient, rtol=0, atol=1e-14)


def test_textbook_reverse_sweep_matches_the_tables():
    t = trace(TEXTBOOK, (2.0, 5.0))
    # adjoints: x1bar = 5.5, x2bar = 1.716, log 1, mul 1, add 1, sin -1, out 1
    assert [r3(a[0]) for a in t.adjoints] == [5.5, 1.716, 1.0, 1.0, 1.0, -1.0, 1.0]


def test_tables_print_the_values():
    t = trace(TEXTBOOK, (2.0, 5.0))
    fwd, rev = t.forward_table(), t.reverse_table()
    assert "d/dx1" in fwd and "1.716" in fwd and "5.5" in fwd
    assert rev.splitlines()[2].startswith("v5") and rev.splitlines()[-1].startswith("v-1")
    assert "log(v-1)" in t.wengert_table()


def test_tape_numbering():
    t = trace(TEXTBOOK, (2.0, 5.0), numbering="tape")
    assert t.names[:3] == ["v1", "v2", "v3"] and t.definitions[2] == "log(v1)"
    with pytest.raises(ValueError):
        trace(TEXTBOOK, (2.0, 5.0), numbering="nope")


@pytest.mark.parametrize("name", ["textbook", "course-f", "course-g"])
@given(a=st.floats(0.2, 4.0), b=st.floats(0.2, 4.0))
def test_examples_against_calculus(name, a, b):
    ex = EXAMPLES[name]
    t = trace(ex.fn, (a, b))
    np.testing.assert_allclose(t.gradient, ex.gradient(a, b), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(t.jacobian_forward, ex.gradient(a, b), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(float(t.value), ex.fn(a, b), rtol=1e-14)


def test_course_values_at_default_points():
    f = trace(EXAMPLES["course-f"].fn, (1.0, 2.0))
    assert [r3(g) for g in f.gradient] == [0.909, 0.166]
    g = trace(EXAMPLES["course-g"].fn, (1.0, 2.0))
    assert list(g.gradient) == [8.0, 5.0] and float(g.value) == 6.0


def test_vector_input_matches_grad():
    f = lambda x: np.sum(np.sin(x) * x[::-1]) + x[0] * x[2]
    x = np.array([0.3, -1.2, 2.0])
    t = trace(f, x)
    assert t.directions == ["x[0]", "x[1]", "x[2]"]
    np.testing.assert_allclose(t.gradient, dt.grad(f)(x), rtol=1e-13)
    np.testing.assert_allclose(t.jacobian_forward, dt.grad(f)(x), rtol=1e-13)


def test_vector_output_matches_jacobian():
    f = lambda x: np.stack([x[0] * x[1], np.exp(x[1]), np.sin(x[0])])
    x = np.array([0.7, -0.4])
    t = trace(f, x)
    J = dt.jacfwd(f)(x)
    assert t.outputs == ["y[0]", "y[1]", "y[2]"]
    np.testing.assert_allclose(t.gradient, J, rtol=1e-13)
    np.testing.assert_allclose(t.jacobian_forward, J, rtol=1e-13)
    assert "dy[2]/dv" in t.reverse_table()


def test_scalar_args_when_vector_false():
    t = trace(lambda *xs: xs[0] * xs[1] * xs[2], (1.0, 2.0, 3.0))
    assert list(t.gradient) == [6.0, 3.0, 2.0]


def test_constant_output_is_an_error():
    with pytest.raises(TypeError, match="does not depend"):
        trace(lambda x1, x2: 3.0, (1.0, 2.0))


def test_dot_graph():
    t = trace(TEXTBOOK, (2.0, 5.0))
    dot = to_dot(t)
    assert dot.startswith("digraph wengert {") and dot.rstrip().endswith("}")
    edges = [line.strip() for line in dot.splitlines() if "->" in line]
    assert edges == ['"v-1" -> "v1";', '"v-1" -> "v2";', '"v0" -> "v2";', '"v1" -> "v3";',
                     '"v2" -> "v3";', '"v0" -> "v4";', '"v3" -> "v5";', '"v4" -> "v5";']
    assert dot.count("shape=ellipse") == 2 and "peripheries=2" in dot
    assert "adjoint: 1.716" in dot and "\\n" in dot
    assert "tangent" not in to_dot(t, sweeps=False)


def test_primitive_without_forward_rule_is_named():
    @dt.primitive
    def twice(x):
        return 2.0 * x

    dt.defvjp(twice, lambda g, ans, x: 2.0 * g)
    with pytest.raises(dt.NoRuleError, match="twice"):
        trace(lambda x1, x2: twice(x1) * x2, (1.0, 2.0))


def test_custom_function_with_jvp_is_swept():
    class Cube(dt.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 3

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return 3 * x ** 2 * g

        @staticmethod
        def jvp(ctx, t):
            (x,) = ctx.saved_tensors
            return 3 * x ** 2 * t

    t = trace(lambda x1, x2: Cube.apply(x1) + x2, (2.0, 1.0))
    assert list(t.gradient) == [12.0, 1.0] and list(t.jacobian_forward) == [12.0, 1.0]
    assert "Cube(v-1)" in t.definitions
