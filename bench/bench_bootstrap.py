"""Bootstrap benchmark: how long applying the deploy SQL takes, first time and re-run, and splitting speed.

Trains the small fixture-sized model (2,000 synthetic customers, 4 trials, seed 1729), renders the
deploy SQL in both inference modes, times the splitter on it, then runs the bootstrap twice against
a throwaway local MariaDB server (in-database mode; the Aurora-only roles and seed load are skipped
there). Prints one JSON line per measurement. Aurora over the Data API adds one HTTPS round trip
per statement (tens of milliseconds), which this local figure does not include.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from churnguard.bootstrap import AppUser, BootstrapRequest, run_bootstrap  # noqa: E402
from churnguard.db import PyMySqlClient, connect, parse_url  # noqa: E402
from churnguard.local.server import start_server, stop_server  # noqa: E402
from churnguard.sql_splitter import split_statements  # noqa: E402
from churnguard.sqlgen import render_deploy_sql  # noqa: E402
from training.pipeline import train  # noqa: E402
from training.synthetic import generate_customers  # noqa: E402

SEED = 1729
SPLIT_REPEATS = 20
DATABASE = "bench_bootstrap"
APP_USER = AppUser("bench_app", "Bench-app_pa55word-1729")
API_USER = AppUser("bench_api", "Bench-api_pa55word-1729")


def main() -> int:
    with tempfile.TemporaryDirectory() as model_dir:
        train(generate_customers(2_000, seed=SEED), Path(model_dir), trials=4, seed=SEED)
        rendered = {
            "in_database": render_deploy_sql(model_dir, inference_mode="in_database", endpoint_name=None),
            "endpoint": render_deploy_sql(
                model_dir, inference_mode="endpoint", endpoint_name="churnguard-xgb"
            ),
        }
    for mode, files in rendered.items():
        text_bytes = sum(len(sql_file.text.encode("utf-8")) for sql_file in files)
        started = time.perf_counter()
        for _ in range(SPLIT_REPEATS):
            statements = sum(len(split_statements(sql_file.text)) for sql_file in files)
        elapsed = (time.perf_counter() - started) / SPLIT_REPEATS
        emit(
            measure="split_deploy_sql",
            inference_mode=mode,
            files=len(files),
            statements=statements,
            sql_bytes=text_bytes,
            seconds=round(elapsed, 5),
            mb_per_s=round(text_bytes / elapsed / 1e6, 2),
        )

    server = start_server()
    try:
        admin = parse_url(server.admin_url)
        base = f"mysql://{quote(admin.user)}:{quote(admin.password, safe='')}@{admin.host}:{admin.port}"

        def open_client(database: str | None) -> PyMySqlClient:
            return connect(f"{base}/{database or ''}")

        request = BootstrapRequest(
            database=DATABASE,
            sql_files=rendered["in_database"],
            app_user=APP_USER,
            api_user=API_USER,
            aurora=False,
        )
        for run in ("first", "re-run"):
            started = time.perf_counter()
            report = run_bootstrap(open_client, request)
            emit(
                measure="apply_local_mariadb",
                run=run,
                inference_mode="in_database",
                statements=report.statements,
                seconds=round(time.perf_counter() - started, 3),
            )
    finally:
        stop_server(server)
    return 0


def emit(**figures: object) -> None:
    print(json.dumps({"bench": "bootstrap", **figures}), flush=True)


if __name__ == "__main__":
    sys.exit(main())
