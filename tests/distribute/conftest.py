"""Executors for the distribute tests: one process pool and one local Dask cluster per
module (both bound to this machine), created on first use."""

from __future__ import annotations

import logging

import pytest
from distpools import make_pool


@pytest.fixture(scope="module")
def pool():
    ex = make_pool(2)
    yield ex
    ex.shutdown(wait=True, cancel_futures=True)


@pytest.fixture(scope="module")
def dask_client():
    pytest.importorskip("distributed", reason="dask.distributed is not installed (the "
                        "optional extra: pip install 'dualtape[distributed]'); CI installs it")
    from distributed import Client, LocalCluster
    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                           host="127.0.0.1", dashboard_address=None,
                           silence_logs=logging.ERROR)
    client = Client(cluster)
    yield client
    client.close()
    cluster.close()
