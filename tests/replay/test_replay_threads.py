"""Threads: one compiled object called from several threads gives each the right
answer (replays, re-recordings and second order alike), and a recording in one thread
sees only its own thread's guards."""

from __future__ import annotations

import sys
import threading

import numpy as np
import pytest

import dualtape as dt
from dualtape.replay.guards import Mask


@pytest.fixture(autouse=True)
def _switch_often():
    """Force frequent thread switches so interleavings actually happen."""
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(old)


def run_threads(workers, rounds: int) -> None:
    """Run each worker(k) ``rounds`` times in its own thread, all released together;
    re-raise the first error."""
    barrier = threading.Barrier(len(workers))
    errors: list = []

    def loop(w):
        barrier.wait()
        try:
            for k in range(rounds):
                w(k)
        except BaseException as e:  # noqa: BLE001 - reported to the main thread
            errors.append(e)

    threads = [threading.Thread(target=loop, args=(w,)) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "a thread hung"
    if errors:
        raise errors[0]


def rosen(x):
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def test_one_compiled_object_shared_by_threads():
    cf = dt.compile(rosen, np.zeros(5))
    rng = np.random.default_rng(3)
    points = [[rng.standard_normal(5) for _ in range(10)] for _ in range(4)]
    want = [[(rosen(x), dt.grad(rosen)(x), dt.hvp(rosen, x, np.ones(5))) for x in xs]
            for xs in points]

    def worker(i):
        def step(k):
            x = points[i][k]
            value, g, hv = want[i][k]
            np.testing.assert_allclose(cf(x), value, rtol=1e-14)
            np.testing.assert_allclose(cf.grad(x), g, rtol=1e-13)
            got_value, got_g = cf.value_and_grad(x)
            np.testing.assert_allclose(got_g, g, rtol=1e-13)
            np.testing.assert_allclose(cf.hvp(np.ones(5), x), hv, rtol=1e-12)
        return step

    run_threads([worker(i) for i in range(4)], rounds=10)
    assert cf.retraces == 0 and len(cf.variants) == 1


def piecewise(x):
    s = np.sum(x)
    if s > 1.0:
        return np.sum(x ** 3)
    if s > -1.0:
        return np.sum(np.sin(x) * x)
    return np.sum(np.exp(x))


def test_threads_taking_different_branches_record_concurrently():
    """Each thread sits on its own branch: the first calls re-record concurrently."""
    cf = dt.compile(piecewise, np.zeros(3))
    centers = [2.0, 0.0, -2.0, 2.0, -2.0]
    rng = np.random.default_rng(5)
    points = [[c / 3.0 + 0.05 * rng.standard_normal(3) for _ in range(8)] for c in centers]
    want = [[dt.grad(piecewise)(x) for x in xs] for xs in points]

    def worker(i):
        def step(k):
            np.testing.assert_allclose(cf.grad(points[i][k]), want[i][k], rtol=1e-13)
            np.testing.assert_allclose(cf(points[i][k]), piecewise(points[i][k]), rtol=1e-14)
        return step

    run_threads([worker(i) for i in range(len(centers))], rounds=8)
    assert 1 <= len(cf.variants) <= cf.max_variants
    assert cf.retraces >= 2      # two new branches at least once each (races may add more)


def test_threads_alternating_branches_with_a_small_cache():
    cf = dt.compile(piecewise, np.zeros(3), max_variants=2)
    xs = [np.full(3, c) for c in (1.0, 0.0, -1.0)]
    want = [dt.grad(piecewise)(x) for x in xs]

    def worker(i):
        def step(k):
            j = (i + k) % 3
            np.testing.assert_allclose(cf.grad(xs[j]), want[j], rtol=1e-13)
        return step

    run_threads([worker(i) for i in range(3)], rounds=12)
    assert len(cf.variants) <= 2


def test_a_recording_sees_only_its_own_threads_guards():
    started, proceed = threading.Event(), threading.Event()
    seen_in_other: dict = {}

    def f(x):
        c = x > 0                      # guard 1, recorded while the other thread works
        started.set()
        assert proceed.wait(timeout=30)
        return np.sum(x ** 2) if c.all() else np.sum(x)

    def other():
        assert started.wait(timeout=30)
        try:
            y = np.array([1.0, -2.0])
            # eager transforms with comparisons on their own traced values
            g = dt.grad(lambda u: np.sum(u ** 2) if u[0] > 0 else np.sum(u))(y)
            seen_in_other["grad"] = g

            def probe(u):
                seen_in_other["type"] = type(u > 0)
                return np.sum(u * u)

            dt.grad(probe)(y)
            seen_in_other["plain"] = type(y > 0)
            # a recording of its own, with two guards
            h = lambda u: np.sum(u) if (u[0] > 0 and u[1] < 0) else np.sum(u * u)
            seen_in_other["compiled"] = dt.compile(h, y)
        finally:
            proceed.set()

    t = threading.Thread(target=other)
    t.start()
    cf = dt.compile(f, np.ones(2))
    t.join(timeout=60)
    assert not t.is_alive()
    assert len(cf.variants[0].program.guards()) == 1
    np.testing.assert_allclose(seen_in_other["grad"], [2.0, -4.0])
    assert seen_in_other["type"] is not Mask and seen_in_other["plain"] is np.ndarray
    assert len(seen_in_other["compiled"].variants[0].program.guards()) == 2
    # and both recordings replay correctly
    x = np.array([1.0, -1.0])
    np.testing.assert_allclose(cf.grad(x), dt.grad(f)(x))
    assert cf.retraces == 1


def test_recordings_in_many_threads_at_once():
    def make(k):
        def f(x):
            total = np.sum(x)
            for _ in range(k):              # k guards
                if total > 0:
                    total = total * 0.5 + np.sum(np.sin(x))
            return total
        return f

    fs = [make(k) for k in range(1, 7)]
    results: dict = {}

    def worker(i):
        def step(_):
            results[i] = dt.compile(fs[i], np.ones(3))
        return step

    run_threads([worker(i) for i in range(len(fs))], rounds=1)
    for i, f in enumerate(fs):
        cf = results[i]
        assert len(cf.variants[0].program.guards()) == i + 1
        x = np.array([0.5, 1.5, -0.25])
        np.testing.assert_allclose(cf.grad(x), dt.grad(f)(x), rtol=1e-13)
        assert cf.retraces == 0
