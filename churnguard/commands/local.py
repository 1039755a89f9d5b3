"""`churnguard local up|down|status`: the throwaway MariaDB stand-in for Aurora.

`up` starts a private server (or adopts one given by --db-url), loads the schema and customers,
trains a model or reuses --model, and installs will_churn, the one-hot helpers, the bulk-scoring
view and the local Comprehend functions; the installed model's folder is kept in the model store
(artifacts/models/<id>) and recorded, so the other commands find the live model's folder after the
server is gone. `down` stops the server and deletes its files, not the kept model.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path
from typing import Any

from churnguard.commands._options import check_synthetic_customers
from churnguard.constants import DEFAULT_SEED, DEFAULT_SYNTHETIC_CUSTOMERS
from churnguard.errors import UserError

DEFAULT_TRIALS = 8


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "local",
        help="start, stop or inspect the local MariaDB stand-in for Aurora",
        description="A throwaway MariaDB server on 127.0.0.1 that runs the same SQL as Aurora: will_churn "
        "compiled from the model, lexicon-based stand-ins for the Comprehend functions.",
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    up = actions.add_parser("up", help="start the server, load customers, install the model's functions")
    up.add_argument("--data", type=Path, default=None, help="customer CSV (default: synthetic customers)")
    up.add_argument("--model", type=Path, default=None, help="reuse a trained model folder (metadata.json)")
    up.add_argument("--db-url", default=None, help="use this existing database instead of starting one")
    up.add_argument(
        "--customers",
        type=int,
        default=DEFAULT_SYNTHETIC_CUSTOMERS,
        help="synthetic customers without --data",
    )
    up.add_argument("--trials", type=int, default=DEFAULT_TRIALS, help="search trials when training")
    up.add_argument("--seed", type=int, default=DEFAULT_SEED, help="seed of synthetic data and training")
    up.set_defaults(func=run_up)
    down = actions.add_parser("down", help="stop the local server and delete its files")
    down.set_defaults(func=run_down)
    status = actions.add_parser("status", help="say whether the local server runs and what it holds")
    status.set_defaults(func=run_status)


def _say(message: str) -> None:
    print(message, file=sys.stderr)


def _customers(args: argparse.Namespace) -> Any:
    if args.data is not None:
        from training.data import load_customers

        return load_customers(args.data)
    check_synthetic_customers(args.customers, "--customers")
    from training.synthetic import generate_customers

    return generate_customers(args.customers, seed=args.seed)


def _check_model_option(args: argparse.Namespace) -> None:
    """A --model folder is read, and refused unless whole and consistent, before any server starts."""
    if args.model is not None:
        from churnguard.model_folder import ModelFolder

        ModelFolder.read(args.model)


def _model_dir(args: argparse.Namespace, customers: Any, server_dir: Path | None) -> Path:
    if args.model is not None:
        return args.model
    from training.pipeline import train

    out_dir = (server_dir or Path.cwd() / "artifacts") / "model"
    _say(f"training a model on {len(customers)} customers ({args.trials} trials) into {out_dir}")
    train(customers, out_dir, trials=args.trials, seed=args.seed)
    return out_dir


def run_up(args: argparse.Namespace) -> int:
    from churnguard.commands._invocation import churnguard_command
    from churnguard.db import connect
    from churnguard.lifecycle.store import DEFAULT_STORE, keep_model
    from churnguard.local.client_command import client_command
    from churnguard.local.install import create_api_user, install_churnguard
    from churnguard.local.server import start_server, stop_server
    from churnguard.local.state import LocalServer, read_state, write_state
    from churnguard.model_folder import ModelFolder
    from churnguard.sqlgen import check_installed_signature
    from training.synthetic import generate_messages

    existing = read_state()
    if existing is not None:
        raise UserError(
            f"a local database is already recorded ({connect_hint(existing.url)}): run `local down` first"
        )
    _check_model_option(args)
    customers = _customers(args)
    if args.db_url:
        server = LocalServer(url=args.db_url, admin_url="", base_dir="", port=0, pid=0, managed=False)
    else:
        _say("starting MariaDB on 127.0.0.1")
        server = start_server()
    try:
        model_dir = _model_dir(args, customers, Path(server.base_dir) if server.managed else None)
        client = connect(server.url)
        try:
            _say(f"installing schema, {len(customers)} customers, messages and functions")
            install_churnguard(
                client,
                model_dir=model_dir,
                customers=customers,
                messages=generate_messages(customers, seed=args.seed),
            )
            check_installed_signature(client, ModelFolder.read(model_dir).feature_spec)
        finally:
            client.close()
        if server.managed:  # the deployed API's user and grants, on the real server (needs root)
            server = dataclasses.replace(server, api_url=create_api_user(server.admin_url, server.url))
        kept = keep_model(model_dir, DEFAULT_STORE)
    except BaseException:
        stop_server(server)
        raise
    path = write_state(dataclasses.replace(server, model_dir=str(kept.resolve())))
    print(f"local database ready: {connect_hint(server.url)}")
    print(f"model: {kept}; state: {path} (owner-only; holds the password)")
    print(f"SQL prompt: {client_command(server.url)}")
    command = churnguard_command()
    print(
        f"try: {command} recommend --area-code 415 --phone 358-1921 "
        f"--message 'You charged me extra again!'   (or `{command} local status`)"
    )
    return 0


def connect_hint(url: str) -> str:
    """The URL as people may see it: without the password (churnguard.db.DatabaseUrl's str())."""
    from churnguard.db import parse_url

    return str(parse_url(url))


def run_down(args: argparse.Namespace) -> int:
    from churnguard.local.client_command import forget_client_options
    from churnguard.local.server import stop_server
    from churnguard.local.state import forget_state, read_state

    server = read_state()
    if server is None:
        print("no local database recorded: nothing to stop")
        return 0
    stop_server(server)
    forget_state()
    forget_client_options()
    print("local database stopped and its files deleted" if server.managed else "forgot the adopted database")
    return 0


def run_status(args: argparse.Namespace) -> int:
    from churnguard.local.client_command import client_command
    from churnguard.local.server import server_status
    from churnguard.local.state import read_state

    server = read_state()
    if server is None:
        print("no local database: start one with `churnguard local up`")
        return 3
    print(server_status(server))
    print(f"SQL prompt: {client_command(server.url)}")
    return 0
