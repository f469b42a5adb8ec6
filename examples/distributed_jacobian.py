"""Distributed Jacobian: the chunks of a slow simulation's Jacobian computed on a local
Dask cluster (2 worker processes on 127.0.0.1), timed against the serial run.

The "simulation" is a 1-D reaction-diffusion model marched with explicit Euler steps on
a fine grid (plain NumPy, ~50 ms per evaluation); its 8 parameters are the amplitudes of
the initial bumps and its 16 outputs the state at sensor points at the final time.
Forward mode pushes the 8 tangent directions through every step, so a pass costs more
the more directions it carries: ``dt.jacfwd(f, executor=...)`` splits them into chunks
(one per worker by default), each chunk one task, and assembles the columns in order.
The distributed Jacobian equals the serial one with the same ``chunk=`` bit for bit.

What to read in the timings: the serial run is shown with the same chunks as the workers
get and in one pass of all directions (on this grid the single pass is not faster: its
tangent arrays outgrow the cache); the speed-up is against the faster of the two. On
2 cores expect up to 2x; the quick mode is too small for the tasks to pay their way.

Without dask installed the example falls back to a ``ProcessPoolExecutor`` with 2
processes (pip install 'dualtape[distributed]' for the cluster).

Run: python examples/distributed_jacobian.py      (DUALTAPE_QUICK=1 for a smaller grid)
"""

from __future__ import annotations

import logging
import os
import sys
import time

import numpy as np

import dualtape as dt

QUICK = os.environ.get("DUALTAPE_QUICK") == "1"
N_GRID, STEPS = (8000, 150) if QUICK else (40000, 400)
N_PARAMS, N_SENSORS, WORKERS = (8 if QUICK else 16), 64, 2

GRID = np.linspace(0.0, 1.0, N_GRID)
BUMPS = np.exp(-((GRID[None, :] - np.linspace(0.1, 0.9, N_PARAMS)[:, None]) / 0.04) ** 2)
SENSORS = np.linspace(0, N_GRID - 1, N_SENSORS).astype(int)


def simulate(p):
    """u_t = D u_xx + r (u - u^3), explicit Euler, from u0 = sum_j p_j bump_j(x)."""
    u = sum(p[j] * BUMPS[j] for j in range(N_PARAMS))
    for _ in range(STEPS):
        lap = np.concatenate([u[1:2] - u[:1], u[2:] - 2.0 * u[1:-1] + u[:-2],
                              u[-2:-1] - u[-1:]])
        u = u + 0.2 * lap + 1e-3 * (u - u ** 3)
    return u[SENSORS]


def start_executor():
    """A Dask LocalCluster's executor, or a process pool when dask is not installed."""
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        from concurrent.futures import ProcessPoolExecutor
        print("dask.distributed is not installed (pip install 'dualtape[distributed]'); "
              f"falling back to concurrent.futures.ProcessPoolExecutor({WORKERS})")
        pool = ProcessPoolExecutor(WORKERS)
        return pool, pool.shutdown, f"ProcessPoolExecutor, {WORKERS} processes"
    import dask
    # Dask starts its workers with MALLOC_TRIM_THRESHOLD_=65536, which turns glibc's
    # adaptive mmap threshold off: every temporary array over 128 KiB is then mapped and
    # unmapped, and this array-heavy simulation runs ~10x slower. Keep the other settings.
    env = dict(dask.config.get("distributed.nanny.pre-spawn-environ", {}))
    env.pop("MALLOC_TRIM_THRESHOLD_", None)
    with dask.config.set({"distributed.nanny.pre-spawn-environ": env}):
        cluster = LocalCluster(n_workers=WORKERS, threads_per_worker=1, processes=True,
                               host="127.0.0.1", dashboard_address=None,
                               silence_logs=logging.ERROR)
    client = Client(cluster)

    def close():
        client.close()
        cluster.close()

    return (client.get_executor(), close,
            f"Dask LocalCluster at {cluster.scheduler_address}, {WORKERS} worker processes")


def best_of(fn, repeats: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return min(times), out


def main() -> int:
    p = np.linspace(0.5, 1.5, N_PARAMS)
    repeats = 2 if QUICK else 3
    t_eval, _ = best_of(lambda: simulate(p), repeats)
    print(f"simulation: {N_GRID} grid points, {STEPS} steps; one evaluation "
          f"{t_eval * 1e3:.0f} ms; Jacobian {N_SENSORS} x {N_PARAMS} by forward mode")
    chunk = -(-N_PARAMS // WORKERS)  # one chunk per worker, as executor= does by default
    t_ser, J_ser = best_of(lambda: dt.jacfwd(simulate, chunk=chunk)(p), repeats)
    t_one, J_one = best_of(lambda: dt.jacfwd(simulate)(p), repeats)
    print(f"serial, {N_PARAMS // chunk} passes of {chunk} directions:        "
          f"{t_ser * 1e3:7.0f} ms")
    print(f"serial, 1 pass of {N_PARAMS} directions:         {t_one * 1e3:7.0f} ms")

    executor, close, how = start_executor()
    try:
        jac = dt.jacfwd(simulate, executor=executor)  # chunk: one per worker
        for _ in range(2):  # warm-up: the workers import dualtape, and each one's first
            jac(p)          # pass pays for growing its heap, as the serial runs did
        t_dist, J_dist = best_of(lambda: jac(p), repeats)
    finally:
        close()
    print(f"distributed, {N_PARAMS // chunk} tasks of {chunk} directions:     "
          f"{t_dist * 1e3:7.0f} ms   ({how})")
    print(f"speed-up over the fastest serial run: {min(t_one, t_ser) / t_dist:.2f}x "
          f"on {os.cpu_count()} cores")

    same = np.array_equal(J_dist, J_ser)
    close_enough = np.allclose(J_dist, J_one, rtol=1e-12, atol=1e-15)
    print(f"distributed == serial with chunk={chunk}, bit for bit: {same}; "
          f"== the single pass to 1e-12: {close_enough}")
    return 0 if same and close_enough else 1


if __name__ == "__main__":
    sys.exit(main())
