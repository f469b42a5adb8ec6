"""executor= on a process pool and on a local Dask cluster: the same bits as the serial
call, chunks assembled in order (also uneven ones, also when they finish out of order),
failures named by chunk, lost workers reported or retried."""

from __future__ import annotations

import os
import sys
import time

import numpy as np
import pytest
from distpools import make_pool

import dualtape as dt
import solvers
from dualtape.errors import ChunkError
from dualtape.study import compare

# the workers cannot import this test module: send its functions by value
cloudpickle = pytest.importorskip("cloudpickle", reason="the distribute tests send closures "
                                  "(pip install 'dualtape[distributed]')")
cloudpickle.register_pickle_by_value(sys.modules[__name__])

RNG = np.random.default_rng(0)
A = RNG.standard_normal((7, 5))
B = RNG.standard_normal((3, 7))
X5, X7 = RNG.standard_normal(5), RNG.standard_normal(7)


def wide(x):  # R^5 -> R^7: forward mode by default
    return np.tanh(A @ x) * x[0] + np.sin(x).sum()


def tall(x):  # R^7 -> R^3: reverse mode by default
    return B @ np.exp(np.sin(x)) * x[1]


def scalar(x):
    return np.sum(np.sin(x) ** 2 * x[0]) + x @ A.T @ A @ x


def stencil(x):
    return x[1:] ** 2 - x[:-1] * np.sin(x[1:])


@pytest.fixture(scope="module", params=["process", "dask"])
def executor(request):
    if request.param == "process":
        return request.getfixturevalue("pool")
    return request.getfixturevalue("dask_client").get_executor()


def same(a, b):
    la, sa = dt.tree.flatten(a)
    lb, sb = dt.tree.flatten(b)
    return sa == sb and len(la) == len(lb) and all(
        np.shape(u) == np.shape(v) and np.array_equal(u, v) for u, v in zip(la, lb))


# ---- exactly the serial result ----

@pytest.mark.parametrize("transform,f,x", [
    (dt.jacfwd, wide, X5), (dt.jacrev, wide, X5), (dt.jacobian, wide, X5),
    (dt.jacfwd, tall, X7), (dt.jacrev, tall, X7), (dt.jacobian, tall, X7),
    (dt.hessian, scalar, X5)], ids=lambda v: getattr(v, "__name__", ""))
@pytest.mark.parametrize("chunk", [None, 1, 2, 3])
def test_dense_equals_serial(executor, transform, f, x, chunk):
    got = transform(f, chunk=chunk, executor=executor)(x)
    assert np.array_equal(got, transform(f, chunk=chunk)(x))


def test_pytrees_argnums_and_aux(executor):
    def f(p, q):
        out = {"a": p["w"] * q, "b": np.sum(p["v"]) * q[:2]}
        return out, {"norm": np.sum(q ** 2)}

    P, q = {"w": np.arange(3.0), "v": np.ones(2)}, np.arange(3.0) + 1.0
    for transform in (dt.jacfwd, dt.jacrev, dt.jacobian):
        got = transform(f, argnums=(0, 1), has_aux=True, chunk=2, executor=executor)(P, q)
        assert same(got, transform(f, argnums=(0, 1), has_aux=True, chunk=2)(P, q))
    assert same(dt.hessian(lambda p: np.sum(p["w"] ** 3 * p["v"][0]), executor=executor,
                           chunk=2)(P),
                dt.hessian(lambda p: np.sum(p["w"] ** 3 * p["v"][0]), chunk=2)(P))


def test_sparse_equals_serial(executor):
    x = RNG.standard_normal(40)
    for mode in ("auto", "forward", "reverse"):
        for chunk in (None, 1):
            got = dt.sparse_jacobian(stencil, x, mode=mode, executor=executor, chunk=chunk)
            assert np.array_equal(got.toarray(), dt.sparse_jacobian(stencil, x,
                                                                     mode=mode).toarray())
    jac = dt.sparse_jacobian_fn(stencil, x, executor=executor)  # colored once, reused
    for y in (x, x + 1.0):
        assert np.array_equal(jac(y).toarray(), dt.sparse_jacobian(stencil, y).toarray())
    h = lambda x: np.sum((x[1:] - x[:-1] ** 2) ** 2)  # noqa: E731
    assert np.array_equal(dt.sparse_hessian(h, x, executor=executor, chunk=1).toarray(),
                          dt.sparse_hessian(h, x).toarray())


# ---- order of the chunks ----

def diagonal(x):
    """f(x) = w * x: the Jacobian is diag(w), so any misplaced chunk shows."""
    tangent = getattr(x, "_tangent", None)
    if tangent is not None and np.any(tangent[:, 0] != 0):
        time.sleep(0.3)  # the first chunk finishes last
    return (np.arange(x.shape[0]) + 1.0) * x


@pytest.mark.parametrize("transform", [dt.jacfwd, dt.jacrev], ids=lambda t: t.__name__)
def test_uneven_chunks_assemble_in_order(executor, transform):
    x = np.linspace(0.5, 1.5, 7)
    got = transform(diagonal, chunk=3, executor=executor)(x)  # chunks of 3, 3 and 1
    assert np.array_equal(got, np.diag(np.arange(7) + 1.0))
    assert np.array_equal(got, transform(diagonal, chunk=3)(x))


# ---- failures ----

def fails_on_direction_3(x):
    if np.any(getattr(x, "_tangent", np.zeros((1, 5)))[:, 3] != 0):
        raise ValueError("the model diverged at direction 3")
    return x * 2.0


def test_a_worker_that_raises_names_its_chunk(executor):
    with pytest.raises(ChunkError, match=r"jacfwd\(fails_on_direction_3\): chunk 1 of 3 "
                                         r"\(tangent directions 2 to 3 of 5\) failed on a "
                                         r"worker: ValueError: the model diverged") as info:
        dt.jacfwd(fails_on_direction_3, chunk=2, executor=executor)(np.ones(5))
    assert isinstance(info.value.__cause__, ValueError)
    assert info.value.index == 1 and "directions 2 to 3" in info.value.label


def test_a_lost_process_is_reported_with_its_chunk():
    parent = os.getpid()

    def dies_in_a_worker(x):
        if os.getpid() != parent:
            os._exit(3)
        return x

    pool = make_pool(1)
    try:
        with pytest.raises(ChunkError, match=r"chunk \d of 2 .*BrokenProcessPool.*lost"):
            dt.jacfwd(dies_in_a_worker, chunk=2, executor=pool)(np.ones(4))
    finally:
        pool.shutdown(wait=True)


def test_dask_retries_a_lost_worker(dask_client, tmp_path):
    marker = str(tmp_path / "died-once")

    def dies_once(x):
        if not os.path.exists(marker):
            open(marker, "w").close()
            os._exit(3)  # the nanny restarts the worker; the scheduler reruns the task
        return x * 3.0

    got = dt.jacfwd(dies_once, chunk=2, executor=dask_client.get_executor())(np.ones(6))
    assert os.path.exists(marker) and np.array_equal(got, 3.0 * np.eye(6))


def test_a_client_is_accepted_as_executor(dask_client):
    dask_client.wait_for_workers(2, timeout=30)  # a worker may still be restarting
    assert dt.distribute.workers_of(dask_client) == 2
    assert np.array_equal(dt.jacrev(tall, executor=dask_client, chunk=1)(X7),
                          dt.jacrev(tall, chunk=1)(X7))


# ---- multistart and compare ----

def two_valleys(x):
    if x[0] > 5:
        raise ValueError("outside the model's range")
    return (x[0] ** 2 - 1.0) ** 2 + 0.1 * x[0] + (x[1] - 0.5) ** 2


def test_multistart_on_workers(executor):
    starts = np.array([[1.5, 0.0], [9.0, 0.0], [-1.5, 2.0], [0.8, 1.0]])
    res = solvers.multistart(two_valleys, starts, executor=executor, method="BFGS")
    serial = solvers.multistart(two_valleys, starts, method="BFGS")
    assert [r.start for r in res] == [r.start for r in serial]
    assert res[0].start == 2 and res[-1].start == 1  # the lower valley first, the failure last
    funs = [r.fun for r in res[:-1]]
    assert all(r.success for r in res[:-1]) and funs == sorted(funs)
    assert np.array_equal(res[0].x, serial[0].x) and res[0].x[0] < 0
    assert not res[-1].success and "start 1 of 4" in res[-1].message
    assert isinstance(res[-1].error, Exception)


def test_compare_sweep_on_workers(executor):
    opts = dict(methods=["fwd", "rev", "fd-cen"], repeats=1, min_time=0.0, memory=False,
                progress=False)
    got = compare("dense", ns=[2, 8, 16], ms=[3, 5], executor=executor, **opts)
    ref = compare("dense", ns=[2, 8, 16], ms=[3, 5], **opts)
    assert [(r.n, r.m, r.method, r.status) for r in got.records] == \
           [(r.n, r.m, r.method, r.status) for r in ref.records]
    assert got.table("time").count("\n") == ref.table("time").count("\n")
    assert got.table("error") == ref.table("error")
    assert "worker" in got.settings["executor"] and "points run on" in got.report()
