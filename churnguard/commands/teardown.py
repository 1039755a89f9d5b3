"""`churnguard teardown`: destroy stacks, sweep the project's leftovers, check nothing billable remains."""

from __future__ import annotations

import argparse

import boto3
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

from churnguard.aws_clients import NO_CREDENTIALS_HELP
from churnguard.commands._options import add_context_option
from churnguard.constants import NAME_PREFIX, PROJECT_TAGS
from churnguard.cost.prices import PriceTable, load_price_table
from churnguard.errors import UserError
from churnguard.teardown.cdk_destroy import (
    CdkDestroyFailed,
    cdk_destroy_command,
    find_project_root,
    run_cdk_destroy,
)
from churnguard.teardown.clients import AwsClients, clients_for
from churnguard.teardown.costs import describe_with_cost, total_text
from churnguard.teardown.leftovers import StackFinder
from churnguard.teardown.stack_deletion import failed_project_stacks, finish_deletion
from churnguard.teardown.sweep import FinalCheck, SweepOutcome, final_check, live_stack_names, sweep


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "teardown",
        help="destroy the stacks and remove everything else the project created",
        description="Runs `cdk destroy --all --force`, then removes the SageMaker jobs, endpoints, models, "
        "training artifacts, log groups, manual snapshots, buckets, secrets and keys that carry the "
        "project's tags AND name prefix (nothing else); what a stage=prod stack retains is kept unless "
        "--delete-retained. A stack `cdk destroy` leaves DELETE_FAILED (a bucket refilled by late access "
        "logs) is emptied and deleted again, showing the wait for its VPC's network interfaces. Lists "
        "everything still there with its monthly cost; exits 1 when anything billable is left that was "
        "not kept on purpose.",
    )
    parser.add_argument("--dry-run", action="store_true", help="list what would be removed; remove nothing")
    parser.add_argument("--region", default=None, help="AWS region (default: AWS_REGION / your profile's)")
    parser.add_argument(
        "--skip-cdk", action="store_true", help="do not run `cdk destroy`; only sweep and check"
    )
    parser.add_argument(
        "--delete-retained",
        action="store_true",
        help="also remove what a stage=prod stack retains on purpose (final snapshot, buckets, KMS key, "
        "app secret, log groups); without it they are kept and listed with their monthly cost",
    )
    add_context_option(
        parser,
        "CDK context for `cdk destroy`, as deployed (e.g. -c stage=prod); repeatable",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from infra.config import validated_context

    # Checked as the deploy checks them before anything is destroyed: a misspelt -c stage would name
    # another stack, and `cdk destroy` would only refuse it once it runs.
    validated_context(args.context)
    try:
        aws = clients_for(boto3.Session(region_name=args.region))
        return _teardown(
            aws,
            dry_run=args.dry_run,
            skip_cdk=args.skip_cdk,
            context=args.context,
            delete_retained=args.delete_retained,
        )
    except NoCredentialsError as error:
        raise UserError(NO_CREDENTIALS_HELP) from error
    except ClientError as error:
        raise UserError(f"AWS refused a request: {error}") from error
    except BotoCoreError as error:
        raise UserError(f"could not talk to AWS: {error}") from error


def _teardown(
    aws: AwsClients, *, dry_run: bool, skip_cdk: bool, context: list[str], delete_retained: bool
) -> int:
    tags = ", ".join(f"{key}={value}" for key, value in PROJECT_TAGS.items())
    if not skip_cdk:
        root = find_project_root()
        command = " ".join(cdk_destroy_command(context))
        if dry_run:
            stacks = ", ".join(leftover.name for leftover in StackFinder().find(aws)) or "none"
            print(f"would run: {command} (in {root}); project stacks: {stacks}")
        else:
            print(f"running: {command} (in {root}, region {aws.region})", flush=True)
            try:
                run_cdk_destroy(aws.region, root, context)
            except CdkDestroyFailed:
                failed = failed_project_stacks(aws)
                if not failed:
                    raise
                _finish_deletions(aws, failed)
    print(f"Sweeping {aws.region} for resources named {NAME_PREFIX}… AND tagged {tags}")
    outcome = sweep(aws, dry_run=dry_run, live_stacks=live_stack_names(aws), delete_retained=delete_retained)
    prices = load_price_table()
    _print_outcome(outcome, prices, dry_run=dry_run)
    if dry_run:
        print("dry run: nothing was removed")
        return 0
    check = final_check(aws, delete_retained=delete_retained)
    _print_check(check, prices)
    return 0 if check.clean else 1


def _finish_deletions(aws: AwsClients, stacks: list[str]) -> None:
    """Retry the deletion of each stack `cdk destroy` left DELETE_FAILED; the sweep and the final check
    run whatever the outcome, so the listing of what still bills ends the run either way."""
    print(
        f"`cdk destroy` left {', '.join(stacks)} DELETE_FAILED; emptying what arrived late and deleting "
        "again (a VPC's deletion waits for its Lambda network interfaces, often 20 minutes or more)",
        flush=True,
    )
    for name in stacks:
        finished = finish_deletion(aws, name)
        if not finished.deleted:
            print(f"  {name}: not deleted after {finished.attempts} attempts ({finished.status})")


def _print_outcome(outcome: SweepOutcome, prices: PriceTable, *, dry_run: bool) -> None:
    for leftover in outcome.kept:
        verb = "would keep" if dry_run else "kept"
        print(f"  {verb} (a stage=prod stack retains it): {describe_with_cost(leftover, prices)}")
    for leftover in outcome.planned:
        print(f"  would {leftover.action}: {leftover.describe()}")
    for leftover in outcome.removed:
        print(f"  {leftover.action}: {leftover.describe()}")
    for leftover, reason in outcome.left_alone:
        print(f"  left alone: {leftover.describe()}: {reason} (remove the stack first)")
    for leftover, reason in outcome.failed:
        print(f"  FAILED to {leftover.action}: {leftover.describe()}: {reason}")
    for leftover in outcome.not_ours:
        print(f"  not touched (named like the project, lacks its tags): {leftover.describe()}")
    if not (outcome.planned or outcome.removed or outcome.left_alone or outcome.failed):
        other = " else" if outcome.kept else ""
        print(f"  nothing{other} to remove" if not dry_run else f"  nothing{other} would be removed")


def _print_check(check: FinalCheck, prices: PriceTable) -> None:
    """Every resource still there, by name, with its monthly cost; "nothing billable left" only when
    nothing billable is, kept on purpose or not."""
    for leftover in check.going_away:
        if leftover.billable:
            print(f"  being deleted by AWS: {describe_with_cost(leftover, prices)} until it is gone")
        else:
            print(f"  being deleted by AWS, not billed: {leftover.describe()}")
    for leftover in check.not_billable:
        print(f"  still there, not billed: {leftover.describe()}")
    if check.kept:
        print(
            f"Final check: KEPT ON PURPOSE, STILL BILLING {total_text(check.kept, prices)} "
            f"({len(check.kept)} resources a stage=prod stack retains; `--delete-retained` removes them):"
        )
        for leftover in check.kept:
            print(f"  {describe_with_cost(leftover, prices)}")
    if check.billable:
        print(f"Final check: STILL BILLABLE, {total_text(check.billable, prices)}:")
        for leftover in check.billable:
            print(f"  {describe_with_cost(leftover, prices)}")
    elif check.kept:
        print("Final check: no other billable resources.")
    elif any(leftover.billable for leftover in check.going_away):
        print("Final check: nothing billable left once AWS finishes the deletions above.")
    else:
        print("Final check: nothing billable left.")
