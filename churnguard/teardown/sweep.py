"""The sweep (remove the project's leftovers, in order) and the final check (what is still there).

Resources named like the project but without its tags are only reported (`not_ours`), so a
person can see, for example, a log group SageMaker created untagged. Resources that still belong to
a live CloudFormation stack are left alone: deleting them behind the
stack's back would break it, and `cdk destroy` removes them properly. What a stage=prod stack retains
on purpose (its final snapshot, buckets, key, app secret, log groups) is kept (`kept`) unless
`delete_retained` is set: keeping data is why prod retains it. The final check looks again with every
finder, including stacks and clusters that only CloudFormation may delete, and lists kept resources
apart from the unexpected ones, each still billing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from botocore.exceptions import ClientError

from churnguard.teardown.clients import AwsClients
from churnguard.teardown.leftovers import Finder, Leftover, report_only_finders, sweep_finders


@dataclass
class SweepOutcome:
    planned: list[Leftover] = field(default_factory=list)
    removed: list[Leftover] = field(default_factory=list)
    failed: list[tuple[Leftover, str]] = field(default_factory=list)
    left_alone: list[tuple[Leftover, str]] = field(default_factory=list)
    not_ours: list[Leftover] = field(default_factory=list)
    kept: list[Leftover] = field(default_factory=list)


@dataclass
class FinalCheck:
    """`billable`: still billing, not expected; `kept`: retained by a prod stack on purpose, still billing."""

    billable: list[Leftover] = field(default_factory=list)
    kept: list[Leftover] = field(default_factory=list)
    not_billable: list[Leftover] = field(default_factory=list)
    going_away: list[Leftover] = field(default_factory=list)
    not_ours: list[Leftover] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        """Nothing billable is left except what was kept on purpose (listed with its cost all the same)."""
        return not self.billable


def live_stack_names(aws: AwsClients) -> set[str]:
    """Every stack in the region that still exists, the project's or not."""
    names = set()
    for page in aws.cloudformation.get_paginator("describe_stacks").paginate():
        for stack in page.get("Stacks", []):
            if stack.get("StackStatus") != "DELETE_COMPLETE":
                names.add(stack["StackName"])
    return names


def _error_text(error: ClientError) -> str:
    details = error.response.get("Error", {})
    return f"{details.get('Code', 'Error')}: {details.get('Message', str(error))}"


def sweep(
    aws: AwsClients,
    *,
    dry_run: bool,
    live_stacks: set[str],
    finders: list[Finder] | None = None,
    delete_retained: bool = False,
) -> SweepOutcome:
    outcome = SweepOutcome()
    for finder in finders if finders is not None else sweep_finders():
        for leftover in finder.find(aws):
            if not leftover.owned:
                outcome.not_ours.append(leftover)
                continue
            if leftover.stack and leftover.stack in live_stacks:
                outcome.left_alone.append((leftover, f"belongs to live stack {leftover.stack}"))
                continue
            if leftover.going_away:
                continue
            if leftover.retained and not delete_retained:
                outcome.kept.append(leftover)
                continue
            if dry_run:
                outcome.planned.append(leftover)
                continue
            try:
                finder.remove(aws, leftover)
            except ClientError as error:
                outcome.failed.append((leftover, _error_text(error)))
            else:
                outcome.removed.append(leftover)
    return outcome


def final_check(
    aws: AwsClients, finders: list[Finder] | None = None, *, delete_retained: bool = False
) -> FinalCheck:
    check = FinalCheck()
    for finder in finders if finders is not None else sweep_finders() + report_only_finders():
        for leftover in finder.find(aws):
            if not leftover.owned:
                check.not_ours.append(leftover)
            elif leftover.going_away:
                check.going_away.append(leftover)
            elif leftover.retained and not delete_retained:
                check.kept.append(leftover)
            elif leftover.billable:
                check.billable.append(leftover)
            else:
                check.not_billable.append(leftover)
    return check
