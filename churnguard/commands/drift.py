"""`churnguard drift`: has the customer base moved away from what the live model was trained on?"""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "drift",
        help="population stability index of each feature and the score against the training rows",
        description="Counts the customers in the database into the quantile bins stored in the live "
        "model's metadata.json (SQL aggregates only) and reports the PSI per feature and for the score: "
        "0.1 watch, 0.25 act (retrain). Exit code 0 either way; read `retrain` in --json.",
    )
    parser.add_argument(
        "--model",
        type=Path,
        default=None,
        help="the live model's folder (its references; default: found as `recommend` finds its model, "
        "or the model store's folder of the live model)",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object (for schedulers)")
    parser.add_argument("--html", type=Path, default=None, help="also write an HTML page with plots here")
    parser.add_argument(
        "--snapshot",
        action="store_true",
        help="read the latest stored CALL churnguard_drift_snapshot() instead of counting now",
    )
    parser.add_argument("--db-url", default=None, help="mysql://user:password@host:port/database")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from churnguard.commands._model_dirs import live_model_dir
    from churnguard.db import connect
    from churnguard.engine.database_errors import database_errors
    from churnguard.lifecycle.drift import drift_for_model, format_drift
    from churnguard.lifecycle.drift_page import write_drift_html
    from churnguard.lifecycle.registry import live_model
    from churnguard.local.url import resolve_url

    client = connect(resolve_url(args.db_url))
    try:
        with database_errors("drift"):
            folder = live_model_dir(live_model(client)["id"], args.model)
            report = drift_for_model(client, str(folder), snapshot=args.snapshot)
    finally:
        client.close()
    if args.html is not None:
        write_drift_html(report, args.html)
    print(json.dumps(report) if args.json else format_drift(report))
    return 0
