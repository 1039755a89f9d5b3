"""`churnguard offers report|record-outcome`: what the engine offered, and whether the customers stayed."""

from __future__ import annotations

import argparse
import json
from datetime import date
from pathlib import Path
from typing import Any

from churnguard.commands._options import add_agent_options
from churnguard.engine.offers_log import OUTCOME_KINDS, OUTCOME_WINDOW_S
from churnguard.errors import UserError


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "offers",
        help="report on the offers log, or record what became of a customer",
        description="The offers log holds every answer `churnguard recommend` and the API gave.",
    )
    actions = parser.add_subparsers(dest="offers_action", metavar="ACTION", required=True)

    report = actions.add_parser(
        "report",
        help="offers and cost by rule and arm; retention by rule, offer and experiment arm",
        description="Offers and their cost by rule and experiment arm; where outcomes are recorded, the "
        "share of customers retained by rule, by offer and by experiment arm (95% Wilson intervals), and "
        "the difference between experiment arms (95% Newcombe interval) or 'not enough outcomes yet'. "
        "With a trained model (found as `recommend` finds it), the offer cost its cut-off was chosen for "
        "beside what the rules' offers cost.",
    )
    report.add_argument("--json", action="store_true", help="print the report as one JSON object")
    report.add_argument(
        "--since", type=_date, default=None, help="only offers from this UTC date (YYYY-MM-DD)"
    )
    report.add_argument("--db-url", default=None, help="mysql://user:password@host:port/database")
    report.add_argument(
        "--model",
        type=Path,
        default=None,
        help="trained model folder whose cost assumptions to show (default: as `recommend` finds it; "
        "left out when there is none)",
    )
    report.add_argument(
        "--rules", type=Path, default=None, help="rules file (default churnguard/rules/default.json)"
    )
    report.add_argument(
        "--changes",
        action="store_true",
        help="also list every outcome that replaced an earlier one: which offer, when, by whom, "
        "from what to what",
    )
    report.set_defaults(func=run_report)

    outcome = actions.add_parser(
        "record-outcome",
        help="record how the call ended and whether the customer behind an offer stayed",
        description="Records (or corrects) the outcome of one offer, by the offer_id `recommend` printed: "
        "how the call ended (--outcome, as the agent console records it) and whether the customer stayed "
        "(--retained). --outcome alone counts an accepted offer as retained and a declined one or an ended "
        "call as not; --retained alone keeps the call's outcome recorded earlier. You (--agent, default "
        f"your OS user) may record the outcome of your own offers within {OUTCOME_WINDOW_S // 3600} hours "
        "of making them; with --supervisor, any offer's at any time. What it replaces is kept "
        "(`offers report --changes`).",
    )
    outcome.add_argument("--offer-id", type=int, required=True, help="the offer's id in the offers log")
    outcome.add_argument(
        "--outcome", choices=OUTCOME_KINDS, default=None, help="how the call ended (the agent's answer)"
    )
    outcome.add_argument("--retained", choices=("yes", "no"), default=None, help="did the customer stay?")
    outcome.add_argument("--db-url", default=None, help="mysql://user:password@host:port/database")
    add_agent_options(outcome, supervisor=True)
    outcome.set_defaults(func=run_record_outcome)


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date in the form YYYY-MM-DD: {text!r}") from None


def run_report(args: argparse.Namespace) -> int:
    from churnguard.db import connect
    from churnguard.engine.database_errors import database_errors
    from churnguard.engine.report import format_report, offers_report
    from churnguard.local.url import resolve_url

    economics, rules = _economics_and_rules(args.model, args.rules)
    client = connect(resolve_url(args.db_url))
    try:
        with database_errors("offers report"):
            report = offers_report(
                client, since=args.since, economics=economics, rules=rules, changes=args.changes
            )
    finally:
        client.close()
    print(json.dumps(report) if args.json else format_report(report))
    return 0


def _economics_and_rules(model: Path | None, rules_path: Path | None) -> tuple[Any, Any]:
    """The model's cost assumptions and the rules, or (None, None) when no model is given or found."""
    from churnguard.commands._model_dirs import model_dir
    from churnguard.engine.economics import read_economics
    from churnguard.engine.rules import load_rules

    try:
        directory = model_dir(model)
    except UserError:
        if model is not None or rules_path is not None:
            raise
        return None, None
    economics = read_economics(directory)
    return economics, load_rules(rules_path, model_cutoff=economics.model_cutoff)


def run_record_outcome(args: argparse.Namespace) -> int:
    from churnguard.agent_identity import local_actor
    from churnguard.db import connect
    from churnguard.engine.database_errors import database_errors
    from churnguard.engine.offers_log import record_outcome
    from churnguard.local.url import resolve_url

    if args.offer_id < 1:
        raise UserError(f"--offer-id must be a positive offer id (got {args.offer_id})")
    if args.outcome is None and args.retained is None:
        raise UserError("give --outcome (accepted, declined, call_ended), --retained (yes, no), or both")
    retained = None if args.retained is None else args.retained == "yes"
    actor = local_actor(args.agent, supervisor=args.supervisor)
    client = connect(resolve_url(args.db_url))
    try:
        with database_errors("offers record-outcome"):
            replaced = record_outcome(
                client, args.offer_id, actor=actor, retained=retained, outcome=args.outcome
            )
    finally:
        client.close()
    verb = "replaced the earlier outcome of" if replaced else "recorded the outcome of"
    if retained is None:
        retained = args.outcome == "accepted"
    stored = f"outcome={args.outcome}, " if args.outcome else ""
    print(f"{verb} offer {args.offer_id}: {stored}retained={'yes' if retained else 'no'}")
    return 0
