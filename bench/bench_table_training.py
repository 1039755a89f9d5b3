"""How long the statements of `churnguard train --sagemaker --from-table` take, on a local MariaDB.

Runs what training.sagemaker.table_rows.TableRows asks of Aurora (the counts and checks, the split's cut
points, the parts' sizes, the categories, the full model's four channel exports, and the drift
reference's order statistics, bin counts and one-hot counts) against a throwaway MariaDB server
holding --rows synthetic customers (seed 1729). Each statement runs with MariaDB's own INTO OUTFILE
to a local file instead of Aurora's INTO OUTFILE S3: the same SELECT, without the upload. Prints
one JSON line per statement (seconds, lines written) and one for the total, with the conditions,
because the machine is shared. Loading the customers is not timed.

    .venv/bin/python bench/bench_table_training.py [--rows 100000]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from churnguard.db import PyMySqlClient, connect  # noqa: E402
from churnguard.local.server import start_server, stop_server  # noqa: E402
from churnguard.sqlgen.files import apply_sql_files, static_sql_files  # noqa: E402
from churnguard.sqlgen.loading import load_customers  # noqa: E402
from training.sagemaker.jobs import LaunchSettings  # noqa: E402
from training.sagemaker.package import ScoredModel  # noqa: E402
from training.sagemaker.table_rows import TableRows  # noqa: E402
from training.synthetic import generate_customers  # noqa: E402

SEED = 1729
FIGURES: list[dict[str, Any]] = []


class TimedFileExporter:
    """training.sagemaker.table_export.TableExporter's interface, writing with the server's INTO OUTFILE."""

    def __init__(self, client: PyMySqlClient, folder: Path) -> None:
        self.client, self.folder = client, folder

    def export(self, select_sql: str, params: Mapping[str, Any], key_prefix: str, what: str) -> list[str]:
        path = self.folder / (key_prefix.replace("/", "_") + ".csv")
        started = time.perf_counter()
        self.client.execute(
            f"{select_sql}\nINTO OUTFILE '{path}'\nFIELDS TERMINATED BY ','\nLINES TERMINATED BY '\\n'",
            dict(params),
        )
        seconds = time.perf_counter() - started
        lines = path.read_bytes().count(b"\n")
        FIGURES.append({"statement": what, "seconds": round(seconds, 3), "lines": lines})
        return [str(path)]

    def rows(self, select_sql: str, params: Mapping[str, Any], key_prefix: str, what: str) -> list[list[str]]:
        (path,) = self.export(select_sql, params, key_prefix, what)
        text = Path(path).read_text(encoding="utf-8")
        return [[None if cell == "\\N" else cell for cell in line.split(",")] for line in text.splitlines()]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args()
    server = start_server()
    try:
        client = connect(server.admin_url)
        client.execute("CREATE DATABASE bench_table")
        client.execute("USE bench_table")
        apply_sql_files(client, static_sql_files())
        load_customers(client, generate_customers(args.rows, seed=SEED))
        with tempfile.TemporaryDirectory(prefix="churnguard-bench-") as folder:
            Path(folder).chmod(0o777)  # the server process writes the files
            settings = LaunchSettings(
                bucket="bench-bucket",
                role_arn="arn:aws:iam::123456789012:role/bench",
                region="eu-west-1",
                run_name="churnguard-bench",
                data_from_table=True,
            )
            rows = TableRows(TimedFileExporter(client, Path(folder)), settings, seed=SEED)  # type: ignore[arg-type]
            started = time.perf_counter()
            spec = rows.prepare()
            rows.stage(spec, reduced=False, batch=True)
            model = ScoredModel(spec, None, np.array([]), np.array([]), {}, "bench")  # type: ignore[arg-type]
            rows.reference("full", model, lambda: np.linspace(0.0, 1.0, rows.sizes["train"].customers))
            total = time.perf_counter() - started
        client.close()
    finally:
        stop_server(server)
    conditions = {
        "customers": args.rows,
        "database": "local MariaDB",
        "cpus": os.cpu_count(),
        "load_average_1m": round(os.getloadavg()[0], 2),
    }
    for figure in FIGURES:
        print(json.dumps({"benchmark": "table_training_statement", **figure, **conditions}))
    print(
        json.dumps(
            {
                "benchmark": "table_training_total",
                "seconds": round(total, 3),
                "statements": len(FIGURES),
                **conditions,
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
