"""`churnguard recommend`: the offer for one customer who just wrote to customer service.

A thin shell over churnguard.engine.recommend: it parses the options, opens the database (by default
the one `churnguard local up` started) and prints the engine's answer, which is also recorded in the
offers log. The whole command answers or fails within its time budget (--timeout, default 5 s): a
database that does not answer in time is a one-line error, never a hang.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from churnguard.commands._model_dirs import DEFAULT_MODEL_DIR, MODEL_DIR_ENV, model_dir
from churnguard.commands._options import add_agent_options
from churnguard.drivers import DEFAULT_TOP_DRIVERS
from churnguard.engine.deadline import ANSWER_TIMEOUT_ENV, DEFAULT_ANSWER_TIMEOUT_S
from churnguard.errors import UserError


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "recommend",
        help="recommend an offer for a customer's message (recorded in the offers log)",
        description="Looks the customer up, scores churn risk and the message's sentiment in one SQL "
        "statement, applies Marketing's rules and explains the score with the customer's top churn "
        "drivers. Messages over Comprehend's 5,000-byte limit are cut at a character boundary (the "
        "answer says so).",
    )
    parser.add_argument("--area-code", required=True, help="the customer's 3-digit area code, e.g. 415")
    parser.add_argument("--phone", required=True, help="the customer's phone number, NNN-NNNN")
    parser.add_argument(
        "--message",
        default=None,
        help="the customer's message; '-' reads it from stdin; default: their latest message on file",
    )
    parser.add_argument("--json", action="store_true", help="print the answer as one JSON object")
    parser.add_argument("--db-url", default=None, help="mysql://user:password@host:port/database")
    parser.add_argument(
        "--model",
        type=Path,
        default=None,
        help=f"trained model folder (default: ${MODEL_DIR_ENV}, else the model `churnguard local up` "
        f"installed, else {DEFAULT_MODEL_DIR})",
    )
    parser.add_argument("--rules", type=Path, default=None, help="rules file (default: the shipped rules)")
    parser.add_argument(
        "--top",
        type=int,
        default=DEFAULT_TOP_DRIVERS,
        help=f"churn drivers to show (default {DEFAULT_TOP_DRIVERS})",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=None,
        metavar="SECONDS",
        help="answer or fail within this many seconds when the database is slow or does not answer "
        f"(default ${ANSWER_TIMEOUT_ENV}, else {DEFAULT_ANSWER_TIMEOUT_S:g})",
    )
    add_agent_options(parser, supervisor=False)
    parser.set_defaults(func=run)


def customer_key(area_code: str, phone: str) -> tuple[int, str]:
    """The checked key; a phone typed with its area code gets the options that split it.

    The shared check (churnguard.engine.request, also the API's) never repeats the number, since its
    messages may be logged; here the person who typed it is shown their own input back, split.
    """
    from churnguard.engine.request import PhoneWithAreaCodeError, validate_customer_key

    try:
        return validate_customer_key(area_code, phone)
    except PhoneWithAreaCodeError as error:
        raise UserError(
            f"--phone takes the seven-digit number only: did you mean --area-code {error.area_code} "
            f"--phone {error.local_number}?"
        ) from None


def check_model_matches_database(client: Any, spec: Any, directory: Path) -> None:
    """Refuse a model folder whose features are not the installed will_churn's parameters.

    Otherwise the statement calls will_churn with the wrong arguments and the answer is a bare
    'database error 1318: Incorrect number of arguments' (or, with the same count in another order,
    a wrong score). A database without will_churn is left to the engine, which answers without the
    score and says why.
    """
    from churnguard.feature_spec import FeatureSpecError, check_feature_order
    from churnguard.sqlgen import installed_signature

    installed = installed_signature(client)
    if not installed:
        return
    try:
        check_feature_order(
            installed, spec.names, what=f"features of {directory} vs the installed will_churn"
        )
    except FeatureSpecError as mismatch:
        raise UserError(
            f"the model folder {directory} does not match the model installed in the database "
            f"(will_churn there takes {len(installed)} features, this model has {len(spec.names)}; "
            f"{mismatch}): pass --model with the folder that was installed, or install this one with "
            "`churnguard local up --model DIR`"
        ) from None


def run(args: argparse.Namespace) -> int:
    from churnguard.agent_identity import local_actor
    from churnguard.db import connect
    from churnguard.engine.database_errors import database_errors
    from churnguard.engine.deadline import Deadline, answer_timeout
    from churnguard.engine.recommend import Engine, latest_message
    from churnguard.engine.request import validate_request
    from churnguard.local.url import resolve_url

    deadline = Deadline.after(answer_timeout(args.timeout))
    if args.top < 1:
        raise UserError(f"--top must be at least 1 (got {args.top})")
    area_code, phone = customer_key(args.area_code, args.phone)
    actor = local_actor(args.agent)
    message = sys.stdin.read() if args.message == "-" else args.message
    if message is not None:
        validate_request(area_code, phone, message)  # refuse bad input before opening anything
    url = resolve_url(args.db_url)  # no database is said as such, before looking for a model
    directory = model_dir(args.model)
    engine = Engine.load(directory, rules_path=args.rules, top_drivers=args.top)
    client = connect(url, deadline=deadline)
    try:
        with database_errors("recommend", secrets=[phone, message or ""]):
            check_model_matches_database(client, engine.explainer.spec, directory)
            if message is None:
                message = latest_message(client, area_code=area_code, phone=phone)
                if message is None:
                    raise UserError(
                        f"no --message given and no message on file for area code {area_code} and that "
                        "phone number"
                    )
        request = validate_request(area_code, phone, message)
        with database_errors("recommend", secrets=[phone, message], outcome="nothing was recorded"):
            answer = engine.recommend(client, request, agent=actor.agent)
    finally:
        client.close()
    if args.message is None:
        answer["notes"].insert(0, "message: the customer's latest message on file")
    print(json.dumps(answer) if args.json else format_answer(answer))
    return 0


def format_answer(answer: dict[str, Any]) -> str:
    """The answer as an agent reads it: the offer first, then why, then the drivers."""
    arm = f" (experiment {answer['experiment']}, arm {answer['arm']})" if answer["arm"] else ""
    probability = answer["churn_probability"]
    sentiment = (
        f"sentiment {answer['sentiment']} (confidence {answer['confidence']:.3f})"
        if answer["sentiment"] is not None
        else "sentiment unknown"
    )
    if answer.get("call_reason") is not None:
        sentiment += f"; call reason {answer['call_reason']}"
    elif any(part["part"] == "call_reason" for part in answer["missing"]):
        sentiment += "; call reason unknown"
    lines = [
        f"Offer: {answer['offer_description']} [{answer['offer']}]{arm}",
        f"Rule:  {answer['rule']}: {answer['reason']}",
        *(f"DEGRADED: {part['reason']}" for part in answer["missing"]),
        f"Churn probability {'unknown' if probability is None else f'{probability:.3f}'}; {sentiment}",
        "Top churn drivers (log-odds):",
    ]
    # The drivers' plain words (the demo's and the console's), not the model's column names.
    lines.extend(f"  {driver['contribution']:+.3f}  {driver['text']}" for driver in answer["drivers"])
    lines.extend(f"Note: {note}" for note in answer["notes"])
    recorded = "Already recorded" if answer["repeated"] else "Recorded"
    lines.append(f"{recorded} as offer {answer['offer_id']} (rules version {answer['rules_version']})")
    return "\n".join(lines)
