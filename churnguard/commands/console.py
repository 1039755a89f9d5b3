"""`churnguard console`: the agent console on 127.0.0.1, against the local database or --db-url.

Loads the same Engine as `churnguard recommend` (model, rules) once, then serves the page and its
JSON API until Ctrl-C. Each call answers within its time budget (--timeout, default 5 s), on a
database connection kept from an earlier call (checked alive first) or opened within that budget,
so a database that stops answering shows as an error on the page, never as a page that hangs. The
address printed carries the run's token, without which the console answers 401
(churnguard.console.sign_in). See docs/console.md.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from churnguard.commands._options import add_agent_options
from churnguard.engine.deadline import ANSWER_TIMEOUT_ENV, DEFAULT_ANSWER_TIMEOUT_S

DEFAULT_PORT = 8765


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "console",
        help="serve the agent console (page + JSON API) on 127.0.0.1",
        description="Serves the call-centre agent's page on 127.0.0.1 only: look a customer up, get "
        "the engine's offer for their message (recorded in the offers log, as `recommend` does) and "
        "record the outcome with one click. Uses the database `churnguard local up` started unless "
        "--db-url or $CHURNGUARD_DB_URL names another.",
    )
    parser.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help="port on 127.0.0.1; 0 picks a free one"
    )
    parser.add_argument("--db-url", default=None, help="mysql://user:password@host:port/database")
    parser.add_argument(
        "--model", type=Path, default=None, help="trained model folder (as for `churnguard recommend`)"
    )
    parser.add_argument("--rules", type=Path, default=None, help="rules file (default: the shipped rules)")
    parser.add_argument(
        "--timeout",
        type=float,
        default=None,
        metavar="SECONDS",
        help="each call answers or fails within this many seconds "
        f"(default ${ANSWER_TIMEOUT_ENV}, else {DEFAULT_ANSWER_TIMEOUT_S:g})",
    )
    add_agent_options(parser, supervisor=True)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from churnguard.agent_identity import local_actor
    from churnguard.commands._model_dirs import model_dir
    from churnguard.console.app import build_app
    from churnguard.console.server import bind, url_of, uvicorn_server
    from churnguard.console.service import ConsoleService, opened_per_call
    from churnguard.console.sign_in import new_token, signed_in_url
    from churnguard.db import connect, parse_url
    from churnguard.engine.deadline import answer_timeout
    from churnguard.engine.recommend import Engine
    from churnguard.errors import UserError
    from churnguard.local.url import resolve_url

    if not 0 <= args.port <= 65535:
        raise UserError(f"--port must be between 0 and 65535 (got {args.port})")
    budget = answer_timeout(args.timeout)
    actor = local_actor(args.agent, supervisor=args.supervisor)
    url = resolve_url(args.db_url, as_api_user=True)  # as the deployed console's Lambda connects
    parse_url(url)  # a malformed URL is refused now, not on the agent's first call
    engine = Engine.load(model_dir(args.model), rules_path=args.rules)
    # A client opened for each call, as the deployed console opens its Data API client.
    clients = opened_per_call(lambda deadline: connect(url, deadline=deadline))
    service = ConsoleService(engine=engine, clients=clients, budget_s=budget, actor=actor)
    token = new_token()
    sock = bind(args.port)
    role = "supervisor" if actor.supervisor else "agent"
    print(
        f"agent console: {signed_in_url(url_of(sock), token)}  (database {parse_url(url)}; {role} "
        f"{actor.agent}; Ctrl-C stops it)",
        flush=True,
    )
    try:
        uvicorn_server(build_app(service, token=token)).run(sockets=[sock])
    finally:
        sock.close()
    return 0
