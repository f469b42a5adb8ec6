"""The distribute machinery without processes: chunk planning, serialization and its
errors, executors and clients, map_ordered, multistart's ordering, the untouched serial
path, and the compare command's --workers option."""

from __future__ import annotations

import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import dualtape as dt
import solvers
from dualtape.distribute import as_executor, dumps, map_ordered, plan_chunks, workers_of
from dualtape.errors import ChunkError, DistributedError


@pytest.fixture(scope="module")
def threads():
    with ThreadPoolExecutor(3) as ex:
        yield ex


@given(n=st.integers(0, 200), chunk=st.integers(1, 50))
def test_plan_chunks_cover_in_order(n, chunk):
    ranges = plan_chunks(n, chunk)
    assert [i for a, b in ranges for i in range(a, b)] == list(range(n))
    assert all(0 < b - a <= chunk for a, b in ranges)
    assert len(ranges) == -(-n // chunk)


def test_threads_give_the_serial_bits(threads):
    A = np.random.default_rng(1).standard_normal((6, 4))
    f = lambda x: np.tanh(A @ x) * x[0]  # noqa: E731
    x = np.linspace(-1, 1, 4)
    for transform in (dt.jacfwd, dt.jacrev, dt.jacobian):
        for chunk in (None, 1, 3):
            assert np.array_equal(transform(f, chunk=chunk, executor=threads)(x),
                                  transform(f, chunk=chunk)(x))


def test_empty_and_scalar_inputs_fall_back_cleanly(threads):
    assert dt.jacfwd(lambda x: x * 2.0, executor=threads)(np.zeros(0)).shape == (0, 0)
    assert dt.jacrev(lambda x: x * 2.0, executor=threads)(np.zeros(0)).shape == (0, 0)
    assert dt.jacfwd(lambda x: x ** 3, executor=threads)(2.0) == 12.0
    assert dt.hessian(lambda x: x ** 3, executor=threads)(2.0) == 12.0


def test_memory_cap_is_checked_before_sending(threads):
    with pytest.raises(dt.MemoryCapError):
        dt.jacfwd(lambda x: x, executor=threads, max_memory=100)(np.ones(10))


def test_inside_another_transform_is_refused(threads):
    inner = dt.jacfwd(lambda y: np.sin(y), executor=threads)
    with pytest.raises(DistributedError, match="inside another transform"):
        dt.grad(lambda x: np.sum(inner(x)))(np.ones(3))


def test_without_cloudpickle_lambdas_get_a_clear_error(threads, monkeypatch):
    monkeypatch.setitem(sys.modules, "cloudpickle", None)  # import cloudpickle -> ImportError
    with pytest.raises(DistributedError, match=r"without cloudpickle .*pip install "
                                               r"'dualtape\[distributed\]'"):
        dt.jacfwd(lambda x: x * 2.0, executor=threads)(np.ones(3))
    # a top-level function of an importable module still travels by plain pickle
    assert np.array_equal(dt.jacfwd(np.sin, executor=threads)(np.zeros(3)), np.eye(3))


def test_unpicklable_closure_is_named(threads):
    lock = threading.Lock()

    def f(x):
        with lock:
            return x * 2.0

    with pytest.raises(DistributedError, match=r"jacfwd\(f\): cannot send .* picklable"):
        dt.jacfwd(f, executor=threads)(np.ones(3))


def test_executors_and_clients(threads):
    class FakeClient:  # what distributed.Client offers
        def get_executor(self):
            return threads

    assert as_executor(FakeClient()) is threads and workers_of(threads) == 3
    with pytest.raises(TypeError, match="concurrent.futures.Executor"):
        dt.jacfwd(np.sin, executor="processes")(np.ones(2))
    shut = ThreadPoolExecutor(1)
    shut.shutdown()
    with pytest.raises(DistributedError, match="refused the work"):
        dt.jacfwd(np.sin, executor=shut)(np.ones(2))


def test_map_ordered(threads):
    assert map_ordered(lambda v: v + 1, range(10), threads) == list(range(1, 11))
    out = map_ordered(lambda v: 1 // v, [1, 0, 2], threads, what="sweep",
                      labels=["a", "b", "c"], errors="return")
    assert out[0] == 1 and out[2] == 0 and isinstance(out[1], ChunkError)
    assert "sweep: b failed" in str(out[1]) and isinstance(out[1].__cause__, ZeroDivisionError)
    with pytest.raises(ChunkError, match="task 1 of 3") as info:
        map_ordered(lambda v: 1 // v, [1, 0, 2], threads)
    assert isinstance(info.value.__cause__, ZeroDivisionError)
    done = []
    map_ordered(lambda v: v, [5, 6], on_done=done.append)
    assert done == [0, 1]
    with pytest.raises(ValueError, match="errors"):
        map_ordered(abs, [1], errors="ignore")


def test_chunk_error_pickles():
    import pickle
    err = pickle.loads(dumps(ChunkError("m", 3, "chunk 3 of 4")))
    assert (str(err), err.index, err.label) == ("m", 3, "chunk 3 of 4")


def test_multistart_order_and_failures(threads):
    def f(x):
        if x[0] > 5:
            raise ValueError("outside")
        return (x[0] ** 2 - 1.0) ** 2 + 0.1 * x[0]

    starts = [np.array([1.2]), np.array([7.0]), np.array([-0.9]), np.array([np.nan])]
    for ex in (None, threads):
        res = solvers.multistart(f, starts, executor=ex, method="BFGS")
        assert [r.start for r in res][:2] == [2, 0] and len(res) == 4
        assert res[0].fun < res[1].fun and res[0].success
        failed = [r for r in res if "error" in r]
        assert {r.start for r in failed} == {1, 3} and res[-2:] == failed
        assert all(r.status == -1 and np.isnan(r.fun) and not r.success for r in failed)
        assert np.array_equal(res[-1].x0, starts[res[-1].start], equal_nan=True)
    with pytest.raises(ValueError, match="empty"):
        solvers.multistart(f, [])


def test_serial_path_imports_nothing_new():
    code = ("import sys, numpy as np, dualtape as dt; dt.jacfwd(np.sin)(np.ones(2)); "
            "dt.sparse_jacobian(np.sin, np.ones(3)); import solvers; "
            "print(sorted(m for m in ('dask', 'distributed', 'cloudpickle') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"


def test_compare_command_with_workers(tmp_path, capsys):
    from dualtape.cli import main
    rc = main(["compare", "--quick", "--n", "2,4", "--m", "3", "--methods", "fwd,rev",
               "--chunks", "", "--repeats", "1", "--no-memory", "--no-plot", "--no-progress",
               "--workers", "2", "--csv", str(tmp_path / "out.csv")])
    out = capsys.readouterr().out
    assert rc == 0 and "points run on ProcessPoolExecutor, 2 worker(s)" in out
    assert (tmp_path / "out.csv").read_text().count("\n") == 1 + 2 * 2
