"""`churnguard preflight`: what `make deploy` checks before it changes anything (infra/preflight.py).

Takes the deploy's `-c` options, checks them as the CDK app does, then asks AWS with the caller's
credentials whether the deploy can succeed: credentials present, region supported, engine version
offered and orderable for the writer. One line either way; exit status 2 on a refusal.
"""

from __future__ import annotations

import argparse

from churnguard.commands._options import add_context_option


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "preflight",
        help="check, before `make deploy` changes anything, that the deploy can succeed",
        description="Checks the -c options as `cdk deploy` would, then, with your AWS credentials: that "
        "there are credentials, that the region has Aurora machine learning with Comprehend, that RDS offers "
        "the engine version there (with auto-pause when min_acu=0) and that the writer can be ordered with "
        "it (db.serverless for Aurora Serverless v2). Each AWS call is one attempt of at most 3 s to "
        "connect and 10 s to answer. `make deploy` runs it first.",
    )
    add_context_option(
        parser,
        "the CDK context the deploy is given (as in CDK_ARGS); repeatable",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from infra.config import validated_context
    from infra.preflight import run_preflight

    options, given = validated_context(args.context)
    print(run_preflight(options, requested_region=given.get("region") or None))
    return 0
