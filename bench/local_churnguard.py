"""A throwaway local MariaDB with churnguard installed for synthetic customers, for the benchmarks that
time the engine against a real server (bench_engine, bench_load, bench_console)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd

from churnguard.db import connect
from churnguard.local.install import install_churnguard
from churnguard.local.server import start_server, stop_server
from churnguard.local.state import LocalServer
from training.synthetic import generate_messages


@contextmanager
def churnguard_server(model_dir: Path, customers: pd.DataFrame, seed: int) -> Iterator[LocalServer]:
    """A started server holding `customers`, their generated messages (`seed`) and the model's
    functions; stopped and its files removed on exit, whatever the benchmark did."""
    server = start_server()
    try:
        with connect(server.url) as client:
            install_churnguard(
                client,
                model_dir=model_dir,
                customers=customers,
                messages=generate_messages(customers, seed=seed),
            )
        yield server
    finally:
        stop_server(server)
