"""Finishes a project stack's deletion that `cdk destroy` left DELETE_FAILED.

The known cause on a dev stack: CloudFormation's bucket auto-delete empties the access-log bucket,
then S3 delivers server access logs that were still on their way ("best effort", possibly hours
late; aws-cdk issues 21776, 16332), and DeleteBucket is refused as not empty. Such a bucket is
emptied again, only because it is a resource of the project's own stack that failed to delete, and
the stack's deletion is retried. While CloudFormation deletes the VPC it waits for the network
interfaces AWS Lambda created for the VPC functions, which AWS releases on its own schedule (tens of
minutes are normal); the wait reports what is still attached so the teardown never looks stuck.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from churnguard.teardown.clients import AwsClients
from churnguard.teardown.leftovers import StackFinder, delete_object_versions

DELETE_FAILED = "DELETE_FAILED"
DELETE_COMPLETE = "DELETE_COMPLETE"
BUCKET_TYPE = "AWS::S3::Bucket"
VPC_TYPE = "AWS::EC2::VPC"
MAX_ATTEMPTS = 3
POLL_SECONDS = 15.0
REPORT_EVERY_SECONDS = 60.0
# CloudFormation gives up on a VPC's subnets and security groups by itself; waiting longer than this
# for one attempt only delays the final check, which then lists the stack as still being deleted.
ATTEMPT_LIMIT_SECONDS = 60 * 60.0

Printer = Callable[[str], None]


def print_now(line: str) -> None:
    """Printed at once, even into a pipe (`make destroy | tee`): the waits last minutes."""
    print(line, flush=True)


@dataclass(frozen=True)
class FinishedDeletion:
    """What became of one DELETE_FAILED stack: deleted or not, after how many retries, and why not."""

    stack: str
    deleted: bool
    attempts: int
    status: str


@dataclass(frozen=True)
class Waiting:
    """The waiting's clock and output, replaceable so a test runs the whole wait in no time."""

    out: Printer = print_now
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    poll_seconds: float = POLL_SECONDS
    report_every_seconds: float = REPORT_EVERY_SECONDS
    attempt_limit_seconds: float = ATTEMPT_LIMIT_SECONDS


def failed_project_stacks(aws: AwsClients) -> list[str]:
    """The project's stacks (named and tagged as its own) whose deletion failed."""
    return [leftover.name for leftover in StackFinder().find(aws) if leftover.state == DELETE_FAILED]


def finish_deletion(aws: AwsClients, stack_name: str, waiting: Waiting | None = None) -> FinishedDeletion:
    """Empty the late-filled buckets of a DELETE_FAILED stack and delete it again, up to
    MAX_ATTEMPTS times, waiting (visibly) for each attempt to end."""
    waiting = waiting or Waiting()
    (described,) = aws.cloudformation.describe_stacks(StackName=stack_name)["Stacks"]
    stack_id = described["StackId"]
    status = described["StackStatus"]
    for attempt in range(1, MAX_ATTEMPTS + 1):
        resources = _stack_resources(aws, stack_id)
        for resource in resources:
            if resource["ResourceType"] == BUCKET_TYPE and resource["ResourceStatus"] == DELETE_FAILED:
                _empty_late_bucket(aws, stack_name, resource, waiting.out)
        vpc_id = next(
            (
                r["PhysicalResourceId"]
                for r in resources
                if r["ResourceType"] == VPC_TYPE and r["ResourceStatus"] != DELETE_COMPLETE
            ),
            None,
        )
        waiting.out(f"  {stack_name}: deleting the stack again (attempt {attempt} of {MAX_ATTEMPTS})")
        aws.cloudformation.delete_stack(StackName=stack_id)
        status = _wait_for_deletion(aws, stack_name, stack_id, vpc_id, waiting)
        if status == DELETE_COMPLETE:
            waiting.out(f"  {stack_name}: deleted")
            return FinishedDeletion(stack_name, True, attempt, status)
        if status != DELETE_FAILED:
            break  # still in progress after the attempt's time limit: the final check lists it
        waiting.out(f"  {stack_name}: {status} again: {_failure_reasons(aws, stack_id)}")
    return FinishedDeletion(stack_name, False, attempt, status)


def _stack_resources(aws: AwsClients, stack_id: str) -> list[dict[str, Any]]:
    resources: list[dict[str, Any]] = []
    for page in aws.cloudformation.get_paginator("list_stack_resources").paginate(StackName=stack_id):
        resources.extend(page.get("StackResourceSummaries", []))
    return resources


def _empty_late_bucket(aws: AwsClients, stack_name: str, resource: dict[str, Any], out: Printer) -> None:
    bucket = resource["PhysicalResourceId"]
    try:
        removed = delete_object_versions(aws, bucket)
    except ClientError as error:
        if error.response["Error"]["Code"] == "NoSuchBucket":
            return
        raise
    arrived = "1 object arrived" if removed == 1 else f"{removed} objects arrived"
    out(
        f"  {stack_name}: emptied S3 bucket {bucket} again ({arrived} after CloudFormation emptied it: "
        "S3 delivers server access logs late)"
    )


def _wait_for_deletion(
    aws: AwsClients, stack_name: str, stack_id: str, vpc_id: str | None, waiting: Waiting
) -> str:
    """Poll until the stack is deleted or failed (or the attempt's time limit), printing the status
    and the network interfaces still in its VPC whenever they change and at least once a minute."""
    started = waiting.clock()
    last_report: tuple[str, tuple[str, ...]] | None = None
    last_report_at = started
    while True:
        (described,) = aws.cloudformation.describe_stacks(StackName=stack_id)["Stacks"]
        status = described["StackStatus"]
        if status in (DELETE_COMPLETE, DELETE_FAILED):
            return status
        interfaces = _interfaces_in(aws, vpc_id) if vpc_id else ()
        now = waiting.clock()
        report = (status, interfaces)
        if report != last_report or now - last_report_at >= waiting.report_every_seconds:
            waiting.out(_progress_line(stack_name, status, vpc_id, interfaces, now - started))
            last_report, last_report_at = report, now
        if now - started >= waiting.attempt_limit_seconds:
            waiting.out(
                f"  {stack_name}: still {status} after {_minutes(now - started)}; not waiting longer. "
                "CloudFormation carries on by itself: run `make destroy` again later to check"
            )
            return status
        waiting.sleep(waiting.poll_seconds)


def _interfaces_in(aws: AwsClients, vpc_id: str) -> tuple[str, ...]:
    """`eni-… (lambda, in-use)` for each network interface still in the VPC, sorted."""
    found = []
    pages = aws.ec2.get_paginator("describe_network_interfaces").paginate(
        Filters=[{"Name": "vpc-id", "Values": [vpc_id]}]
    )
    for page in pages:
        for interface in page.get("NetworkInterfaces", []):
            found.append(
                f"{interface['NetworkInterfaceId']} "
                f"({interface.get('InterfaceType', 'interface')}, {interface.get('Status', '?')})"
            )
    return tuple(sorted(found))


def _progress_line(
    stack_name: str, status: str, vpc_id: str | None, interfaces: tuple[str, ...], elapsed: float
) -> str:
    line = f"  {stack_name}: {status}, {_minutes(elapsed)} so far"
    if not vpc_id:
        return line
    if not interfaces:
        return f"{line}; no network interfaces left in {vpc_id}"
    lambda_count = sum(1 for interface in interfaces if "(lambda," in interface)
    return (
        f"{line}; waiting for {len(interfaces)} network interfaces in {vpc_id} to be released "
        f"({lambda_count} of the VPC Lambdas', which AWS releases after the functions are deleted, "
        f"often 20 minutes or more): {', '.join(interfaces)}"
    )


def _failure_reasons(aws: AwsClients, stack_id: str) -> str:
    reasons = [
        f"{r['LogicalResourceId']} ({r.get('ResourceStatusReason', 'no reason given')})"
        for r in _stack_resources(aws, stack_id)
        if r["ResourceStatus"] == DELETE_FAILED
    ]
    return "; ".join(reasons) or "CloudFormation names no failed resource"


def _minutes(seconds: float) -> str:
    return f"{int(seconds // 60)} min {int(seconds % 60):02d} s"
