"""`churnguard models list|keep|stamp`: the models a database has seen, and keeping folders by id."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "models",
        help="list the models a database has seen; keep trained model folders by id",
        description="Every model installed in a database is recorded in its `models` table with its id "
        "(a hash of model.json), training data fingerprint, features, cut-off and metrics; one is live.",
    )
    actions = parser.add_subparsers(dest="models_action", metavar="ACTION", required=True)

    listing = actions.add_parser(
        "list",
        help="the models the database has recorded, the live one first, with the folder found for each",
    )
    listing.add_argument("--json", action="store_true", help="print one JSON object")
    listing.add_argument("--db-url", default=None, help="mysql://user:password@host:port/database")
    listing.set_defaults(func=run_list)

    keep = actions.add_parser(
        "keep",
        help="copy a trained model folder to STORE/<id> (rollback = deploying that folder)",
        description="Checks the folder's id against its model.json and copies it to STORE/<id>.",
    )
    keep.add_argument("model_dir", type=Path, help="a `churnguard train --out` folder")
    keep.add_argument("--store", type=Path, default=None, help="where folders are kept (artifacts/models)")
    keep.set_defaults(func=run_keep)

    stamp = actions.add_parser(
        "stamp",
        help="write model_id into a folder trained before model ids existed",
        description="Computes the id from model.json and writes it into metadata.json.",
    )
    stamp.add_argument("model_dir", type=Path)
    stamp.set_defaults(func=run_stamp)


def run_list(args: argparse.Namespace) -> int:
    from churnguard.commands._model_dirs import folder_of
    from churnguard.db import connect
    from churnguard.engine.database_errors import database_errors
    from churnguard.lifecycle.registry import list_models
    from churnguard.local.url import resolve_url

    client = connect(resolve_url(args.db_url))
    try:
        with database_errors("models list"):
            models = list_models(client)
    finally:
        client.close()
    for model in models:
        folder = folder_of(model["id"])
        model["folder"] = None if folder is None else str(folder)
    print(json.dumps({"models": models}) if args.json else format_models(models))
    return 0


def format_models(models: list[dict[str, Any]]) -> str:
    if not models:
        return "no model recorded in this database yet: install one (`churnguard local up` or a deploy)"
    lines = [
        f"{'':2}{'id':<17} {'installed at (UTC)':<20} {'cut-off':>7} {'test AUC':>8} {'CV AUC':>8}  "
        "features  folder"
    ]
    for model in models:
        test_auc = model["test_metrics"].get("test_auc")
        cv_auc = model["cv_metrics"].get("auc_mean")
        lines.append(
            f"{'* ' if model['live'] else '  '}{model['id']:<17} {str(model['installed_at'])[:19]:<20} "
            f"{model['cutoff']:>7.2f} {_figure(test_auc):>8} {_figure(cv_auc):>8}  "
            f"{len(model['features']):>8}  {model.get('folder') or '-'}"
        )
    lines.append(
        "(* live; roll back by deploying a model's folder: `make deploy OUT=<folder>`; "
        "- : no folder found, keep trained folders with `churnguard models keep DIR`)"
    )
    return "\n".join(lines)


def _figure(value: Any) -> str:
    return "-" if value is None else f"{float(value):.4f}"


def run_keep(args: argparse.Namespace) -> int:
    from churnguard.lifecycle.store import DEFAULT_STORE, keep_model

    kept = keep_model(args.model_dir, args.store or DEFAULT_STORE)
    print(f"kept {args.model_dir} as {kept}; deploy it again with `make deploy OUT={kept}`")
    return 0


def run_stamp(args: argparse.Namespace) -> int:
    from churnguard.lifecycle.identity import stamp_model_id

    print(f"{args.model_dir}: model_id {stamp_model_id(args.model_dir)}")
    return 0
