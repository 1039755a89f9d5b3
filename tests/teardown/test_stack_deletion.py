"""Finishing a dev stack's deletion that `cdk destroy` left DELETE_FAILED: the access-log bucket
refilled by late S3 server access logs is emptied, the stack deleted again, and the wait for the VPC
Lambdas' network interfaces is shown. S3 is moto's; CloudFormation and EC2 are botocore Stubbers
answering in the shapes of the real API, so every call and its order is checked."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from churnguard.teardown.clients import clients_for
from churnguard.teardown.stack_deletion import MAX_ATTEMPTS, Waiting, finish_deletion
from tests.teardown.conftest import REGION

STACK = "churnguard-dev"
STACK_ID = f"arn:aws:cloudformation:{REGION}:123456789012:stack/{STACK}/0a1b2c3d"
LOG_BUCKET = "churnguard-dev-databucketaccesslogs1a2b3c-abcdef"
VPC = "vpc-0123456789abcdef0"
NOT_EMPTY = "The bucket you tried to delete is not empty (Service: S3, Status Code: 409)"


class FakeClock:
    """Time that moves only when the code under test sleeps."""

    def __init__(self) -> None:
        self.now = 0.0
        self.on_sleep: list[Any] = []

    def sleep(self, seconds: float) -> None:
        self.now += seconds
        if self.on_sleep:
            self.on_sleep.pop(0)()


@pytest.fixture
def stubbed(aws_account: None) -> Any:
    cloudformation = boto3.client("cloudformation", region_name=REGION)
    ec2 = boto3.client("ec2", region_name=REGION)
    stubs = {"cloudformation": Stubber(cloudformation), "ec2": Stubber(ec2)}
    for stub in stubs.values():
        stub.activate()
    aws = dataclasses.replace(
        clients_for(boto3.Session(region_name=REGION)), cloudformation=cloudformation, ec2=ec2
    )
    yield aws, stubs
    for stub in stubs.values():
        stub.assert_no_pending_responses()


def describe(stubs: dict[str, Stubber], status: str, name: str = STACK_ID) -> None:
    stubs["cloudformation"].add_response(
        "describe_stacks",
        {
            "Stacks": [
                {
                    "StackName": STACK,
                    "StackId": STACK_ID,
                    "StackStatus": status,
                    "CreationTime": datetime(2026, 12, 1, tzinfo=UTC),
                }
            ]
        },
        {"StackName": name},
    )


def resources(stubs: dict[str, Stubber], *, bucket: str, vpc: str = "CREATE_COMPLETE") -> None:
    summaries = [
        {
            "LogicalResourceId": "DataBucketAccessLogs1A2B3C4D",
            "PhysicalResourceId": LOG_BUCKET,
            "ResourceType": "AWS::S3::Bucket",
            "ResourceStatus": bucket,
            "LastUpdatedTimestamp": datetime(2026, 12, 7, tzinfo=UTC),
            **({"ResourceStatusReason": NOT_EMPTY} if bucket == "DELETE_FAILED" else {}),
        },
        {
            "LogicalResourceId": "NetworkVpc7FB7348F",
            "PhysicalResourceId": VPC,
            "ResourceType": "AWS::EC2::VPC",
            "ResourceStatus": vpc,
            "LastUpdatedTimestamp": datetime(2026, 12, 7, tzinfo=UTC),
        },
    ]
    stubs["cloudformation"].add_response(
        "list_stack_resources", {"StackResourceSummaries": summaries}, {"StackName": STACK_ID}
    )


def interfaces(stubs: dict[str, Stubber], *ids: str) -> None:
    stubs["ec2"].add_response(
        "describe_network_interfaces",
        {
            "NetworkInterfaces": [
                {"NetworkInterfaceId": eni, "InterfaceType": "lambda", "Status": "in-use", "VpcId": VPC}
                for eni in ids
            ]
        },
        {"Filters": [{"Name": "vpc-id", "Values": [VPC]}]},
    )


def delete(stubs: dict[str, Stubber]) -> None:
    stubs["cloudformation"].add_response("delete_stack", {}, {"StackName": STACK_ID})


def late_logs(count: int) -> None:
    s3 = boto3.client("s3", region_name=REGION)
    for number in range(count):
        s3.put_object(Bucket=LOG_BUCKET, Key=f"data-bucket/2026-12-07-10-00-{number:02d}-LATE", Body=b"log")


def objects_in_log_bucket() -> int:
    return boto3.client("s3", region_name=REGION).list_objects_v2(Bucket=LOG_BUCKET)["KeyCount"]


def test_a_refilled_log_bucket_is_emptied_until_the_stack_is_deleted_and_the_eni_wait_is_shown(
    stubbed: Any,
) -> None:
    aws, stubs = stubbed
    boto3.client("s3", region_name=REGION).create_bucket(Bucket=LOG_BUCKET)
    late_logs(3)  # delivered after CloudFormation's auto-delete emptied the bucket
    clock = FakeClock()
    lines: list[str] = []
    waiting = Waiting(out=lines.append, sleep=clock.sleep, clock=lambda: clock.now)

    describe(stubs, "DELETE_FAILED", name=STACK)
    # Attempt 1: emptied, deleted again, and one more access log lands while CloudFormation works.
    resources(stubs, bucket="DELETE_FAILED")
    delete(stubs)
    describe(stubs, "DELETE_IN_PROGRESS")
    interfaces(stubs, "eni-0aaa", "eni-0bbb")
    clock.on_sleep.append(lambda: late_logs(1))
    describe(stubs, "DELETE_FAILED")
    resources(stubs, bucket="DELETE_FAILED")
    # Attempt 2: emptied again; the Lambda interfaces are released one poll later; deleted.
    resources(stubs, bucket="DELETE_FAILED")
    delete(stubs)
    describe(stubs, "DELETE_IN_PROGRESS")
    interfaces(stubs, "eni-0aaa", "eni-0bbb")
    describe(stubs, "DELETE_IN_PROGRESS")
    interfaces(stubs)
    describe(stubs, "DELETE_COMPLETE")

    finished = finish_deletion(aws, STACK, waiting)

    assert (finished.deleted, finished.attempts, finished.status) == (True, 2, "DELETE_COMPLETE")
    assert objects_in_log_bucket() == 0
    assert lines == [
        f"  {STACK}: emptied S3 bucket {LOG_BUCKET} again (3 objects arrived after CloudFormation emptied "
        "it: S3 delivers server access logs late)",
        f"  {STACK}: deleting the stack again (attempt 1 of {MAX_ATTEMPTS})",
        f"  {STACK}: DELETE_IN_PROGRESS, 0 min 00 s so far; waiting for 2 network interfaces in {VPC} to "
        "be released (2 of the VPC Lambdas', which AWS releases after the functions are deleted, often 20 "
        "minutes or more): eni-0aaa (lambda, in-use), eni-0bbb (lambda, in-use)",
        f"  {STACK}: DELETE_FAILED again: DataBucketAccessLogs1A2B3C4D ({NOT_EMPTY})",
        f"  {STACK}: emptied S3 bucket {LOG_BUCKET} again (1 object arrived after CloudFormation emptied "
        "it: S3 delivers server access logs late)",
        f"  {STACK}: deleting the stack again (attempt 2 of {MAX_ATTEMPTS})",
        f"  {STACK}: DELETE_IN_PROGRESS, 0 min 00 s so far; waiting for 2 network interfaces in {VPC} to "
        "be released (2 of the VPC Lambdas', which AWS releases after the functions are deleted, often 20 "
        "minutes or more): eni-0aaa (lambda, in-use), eni-0bbb (lambda, in-use)",
        f"  {STACK}: DELETE_IN_PROGRESS, 0 min 15 s so far; no network interfaces left in {VPC}",
        f"  {STACK}: deleted",
    ]


def test_a_long_wait_reports_at_least_once_a_minute_and_stops_at_the_attempt_limit(stubbed: Any) -> None:
    aws, stubs = stubbed
    boto3.client("s3", region_name=REGION).create_bucket(Bucket=LOG_BUCKET)
    clock = FakeClock()
    lines: list[str] = []
    waiting = Waiting(
        out=lines.append,
        sleep=clock.sleep,
        clock=lambda: clock.now,
        poll_seconds=30,
        report_every_seconds=60,
        attempt_limit_seconds=120,
    )
    describe(stubs, "DELETE_FAILED", name=STACK)
    resources(stubs, bucket="DELETE_FAILED")
    delete(stubs)
    for _ in range(5):  # at 0, 30, 60, 90 and 120 s the same interface is still attached
        describe(stubs, "DELETE_IN_PROGRESS")
        interfaces(stubs, "eni-0aaa")

    finished = finish_deletion(aws, STACK, waiting)

    assert (finished.deleted, finished.attempts, finished.status) == (False, 1, "DELETE_IN_PROGRESS")
    progress = [line for line in lines if "waiting for 1 network interfaces" in line]
    elapsed = [line.split(", ")[1].split(";")[0] for line in progress]
    assert elapsed == ["0 min 00 s so far", "1 min 00 s so far", "2 min 00 s so far"]
    assert lines[-1] == (
        f"  {STACK}: still DELETE_IN_PROGRESS after 2 min 00 s; not waiting longer. CloudFormation carries "
        "on by itself: run `make destroy` again later to check"
    )


def test_a_bucket_already_gone_is_not_an_error(stubbed: Any) -> None:
    aws, stubs = stubbed
    lines: list[str] = []
    describe(stubs, "DELETE_FAILED", name=STACK)
    resources(stubs, bucket="DELETE_FAILED", vpc="DELETE_COMPLETE")
    delete(stubs)
    describe(stubs, "DELETE_COMPLETE")

    finished = finish_deletion(aws, STACK, Waiting(out=lines.append, sleep=lambda _: None))

    assert finished.deleted
    # The bucket does not exist any more: emptying it is skipped without a word.
    assert lines == [
        f"  {STACK}: deleting the stack again (attempt 1 of {MAX_ATTEMPTS})",
        f"  {STACK}: deleted",
    ]
