"""`churnguard verify`: after `make deploy`, check every path the call centre relies on, on AWS
(--stage/--region, or the same -c options as the deploy) or on the local stand-in (--local, --db-url).

One line per check with pass/fail/skip and its time; a failure also says its likely cause and the fix.
`--json` prints one object instead. Exit status 1 when a check fails. See docs/verify.md.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from churnguard.commands._options import add_context_option
from churnguard.errors import UserError

if TYPE_CHECKING:
    from churnguard.verify.target import Target

DEFAULT_STAGE = "dev"
DEFAULT_MODEL_DIR = Path("artifacts/model")
# CDK context keys verify reads; the others a deploy takes (network, capacity, ...) do not matter here.
CONTEXT_KEYS = ("stage", "region", "model_dir")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "verify",
        help="check a deployed stack (or the local stand-in) end to end: SQL, Comprehend, SageMaker, S3, API",
        description="Runs, in order: database_awake, bootstrap_sql, comprehend_sentiment, will_churn, "
        "s3_export_load, call_centre_statement, recommend_api. On AWS it reads the stack's outputs and uses "
        "the Data API as the application user and the Function URL with SigV4. Exit status 1 when a "
        "check fails.",
    )
    parser.add_argument(
        "--stage", default=None, help=f"the deployed stage (default: -c stage, else {DEFAULT_STAGE})"
    )
    parser.add_argument(
        "--region", default=None, help="AWS region (default: -c region, AWS_REGION, your profile's)"
    )
    add_context_option(
        parser,
        "the CDK context given to the deploy, checked as the deploy checks it (stage, region and "
        "model_dir are read)",
    )
    parser.add_argument(
        "--local", action="store_true", help="verify the database `churnguard local up` started"
    )
    parser.add_argument("--db-url", default=None, help="verify this database (mysql://user:pw@host:port/db)")
    parser.add_argument(
        "--admin-db-url",
        default=None,
        help="with --db-url: a URL with CREATE/DROP and FILE rights for the export check (default: --db-url)",
    )
    parser.add_argument(
        "--model-dir",
        type=Path,
        default=None,
        help="the model that was deployed (default: -c model_dir on AWS, the local server's locally, else "
        f"{DEFAULT_MODEL_DIR})",
    )
    parser.add_argument("--area-code", type=int, default=None, help="test with this customer (with --phone)")
    parser.add_argument(
        "--phone", default=None, help="the test customer's phone, NNN-NNNN (with --area-code)"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of lines")
    parser.set_defaults(func=run)


def parse_context(pairs: list[str]) -> dict[str, str]:
    """The -c KEY=VALUE options verify reads, after checking all of them as the deploy does (a misspelt
    or bad option is refused here too, every problem at once)."""
    from infra.config import validated_context

    _options, given = validated_context(pairs)
    return {key: value for key, value in given.items() if key in CONTEXT_KEYS}


def requested_customer(args: argparse.Namespace) -> tuple[int, str] | None:
    if (args.area_code is None) != (args.phone is None):
        raise UserError("--area-code and --phone go together: give both or neither")
    if args.area_code is None:
        return None
    from churnguard.engine.request import validate_customer_key

    return validate_customer_key(args.area_code, args.phone)


def model_dir_for(args: argparse.Namespace, context: dict[str, str], local: bool) -> Path:
    """The model to compare with. On AWS: --model-dir, then the deploy's -c model_dir, then
    artifacts/model. Locally the deploy's context does not apply: --model-dir, then what `churnguard
    recommend` would use (the model `local up` installed)."""
    if local:
        from churnguard.commands._model_dirs import model_dir

        return model_dir(args.model_dir)
    directory = args.model_dir or Path(context.get("model_dir") or DEFAULT_MODEL_DIR)
    from churnguard.model_folder import holds_model

    if not holds_model(directory):
        raise UserError(
            f"no trained model in {directory} (metadata.json missing): pass the model you deployed with "
            "--model-dir (make verify OUT=<folder>)"
        )
    return directory


def run(args: argparse.Namespace) -> int:
    from churnguard.drivers import DriverExplainer
    from churnguard.verify.checks import CHECKS, VerifyContext
    from churnguard.verify.report import Report, format_json, format_line, verdict
    from churnguard.verify.runner import run_checks

    context = parse_context(args.context)
    customer = requested_customer(args)
    local = args.local or bool(args.db_url)
    if args.admin_db_url and not args.db_url:
        raise UserError("--admin-db-url goes with --db-url")
    directory = model_dir_for(args, context, local)
    try:
        explainer = DriverExplainer.from_model_dir(directory)
    except (ValueError, OSError) as problem:
        raise UserError(f"cannot use the model in {directory}: {problem}") from None
    target = _local_target(args, directory) if local else _aws_target(args, context)
    try:
        verify_context = VerifyContext(
            target=target, explainer=explainer, model_dir=directory, requested_customer=customer
        )
        if not args.json:
            print(f"verifying {target.description}", flush=True)
        width = max(len(name) for name, _ in CHECKS)
        results = run_checks(
            verify_context,
            CHECKS,
            hints=target.hints,
            on_result=None if args.json else lambda result: print(format_line(result, width), flush=True),
        )
    finally:
        target.close()
    report = Report(target=target.description, checks=results)
    if args.json:
        print(format_json(report))
    else:
        print(verdict(report))
    return 0 if report.passed else 1


def _local_target(args: argparse.Namespace, directory: Path) -> Target:
    from churnguard.verify.local_target import LocalTarget

    if args.db_url:
        return LocalTarget(app_url=args.db_url, admin_url=args.admin_db_url, model_dir=directory)
    from churnguard.local.state import read_state

    state = read_state()
    if state is None:
        raise UserError("no local database recorded: start one with `churnguard local up` (or pass --db-url)")
    return LocalTarget(app_url=state.url, admin_url=state.admin_url or None, model_dir=directory)


def _aws_target(args: argparse.Namespace, context: dict[str, str]) -> Target:
    from churnguard.verify.aws_target import connect_stack

    return connect_stack(
        stage=args.stage or context.get("stage") or DEFAULT_STAGE,
        region=args.region or context.get("region") or None,
        progress=lambda message: print(message, file=sys.stderr, flush=True),
    )
