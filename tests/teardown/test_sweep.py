"""The sweep removes only the project's leftovers; dry-run removes nothing; the final check sees the rest."""

from __future__ import annotations

import dataclasses

import boto3
import pytest
from botocore.stub import Stubber

from churnguard.teardown.clients import AwsClients
from churnguard.teardown.leftovers import SageMakerJobFinder
from churnguard.teardown.sweep import final_check, live_stack_names, sweep
from tests.teardown.conftest import (
    NAMED_LIKE_THE_PROJECT,
    PROJECT,
    PROJECT_LEFTOVERS,
    REGION,
    StackAnswers,
    _endpoint,
    inventory,
    kind_and_name,
    seed_account,
    stack,
)

REMOVED_BY_KIND = {
    "endpoints": {"churnguard-endpoint"},
    "endpoint configs": {"churnguard-endpoint-config"},
    "models": {"churnguard-model"},
    "buckets": {"churnguard-data-bucket"},
    "objects": {
        "shared-ml-bucket/jobs/churnguard-train-1/output/model.tar.gz",
        "churnguard-data-bucket/customers/export.csv",
        "churnguard-data-bucket/model/model.tar.gz",
    },
    "log groups": {
        "/aws/lambda/churnguard-recommend",
        "/aws/sagemaker/Endpoints/churnguard-endpoint",
        "/aws/rds/cluster/churnguard-db/error",
    },
    "snapshots": {"churnguard-final-snapshot"},
    "keys": {"alias/churnguard-data", "churnguard: Aurora storage and database secrets"},
    "secrets": {"DatabaseAppUserSecret9C33AA81-AbCdEfGh"},
}


def test_sweep_removes_the_project_leftovers_and_nothing_else(
    aws: AwsClients, stack_answers: StackAnswers
) -> None:
    seed_account()
    before = inventory()
    stack_answers.answer([stack("billing-stack", tags=[])])

    outcome = sweep(aws, dry_run=False, live_stacks=live_stack_names(aws))

    assert {kind_and_name(leftover) for leftover in outcome.removed} == PROJECT_LEFTOVERS
    assert {kind_and_name(leftover) for leftover in outcome.not_ours} == NAMED_LIKE_THE_PROJECT
    assert outcome.failed == [] and outcome.left_alone == []
    after = inventory()
    for kind, removed in REMOVED_BY_KIND.items():
        assert removed <= before[kind], kind
        assert after[kind] == before[kind] - removed, kind


def test_dry_run_lists_the_same_leftovers_and_removes_nothing(
    aws: AwsClients, stack_answers: StackAnswers
) -> None:
    seed_account()
    before = inventory()
    stack_answers.answer([])

    outcome = sweep(aws, dry_run=True, live_stacks=live_stack_names(aws))

    assert {kind_and_name(leftover) for leftover in outcome.planned} == PROJECT_LEFTOVERS
    assert {kind_and_name(leftover) for leftover in outcome.not_ours} == NAMED_LIKE_THE_PROJECT
    assert outcome.removed == []
    assert inventory() == before


def test_final_check_is_clean_after_a_full_sweep(aws: AwsClients, stack_answers: StackAnswers) -> None:
    seed_account()
    stack_answers.answer([], times=2)
    sweep(aws, dry_run=False, live_stacks=live_stack_names(aws))

    check = final_check(aws)

    assert check.clean
    assert check.billable == [] and check.not_billable == []
    assert {kind_and_name(leftover) for leftover in check.not_ours} == NAMED_LIKE_THE_PROJECT


def test_final_check_reports_a_resource_created_after_the_sweep(
    aws: AwsClients, stack_answers: StackAnswers
) -> None:
    seed_account()
    stack_answers.answer([], times=2)
    sweep(aws, dry_run=False, live_stacks=live_stack_names(aws))
    _endpoint(boto3.client("sagemaker", region_name=REGION), "churnguard-late-endpoint", PROJECT)

    check = final_check(aws)

    assert not check.clean
    assert [(leftover.kind, leftover.name) for leftover in check.billable] == [
        ("SageMaker endpoint", "churnguard-late-endpoint")
    ]
    assert {leftover.name for leftover in check.not_billable} == {
        "churnguard-late-endpoint-config-of",
        "churnguard-late-endpoint-model-of",
    }


def test_final_check_reports_stacks_and_clusters_the_sweep_never_deletes(
    aws: AwsClients, stack_answers: StackAnswers
) -> None:
    boto3.client("rds", region_name=REGION).create_db_cluster(
        DBClusterIdentifier="churnguard-db",
        Engine="aurora-mysql",
        MasterUsername="admin",
        MasterUserPassword="not-a-real-password-1",
        Tags=PROJECT,
    )
    stack_answers.answer([stack("churnguard", "DELETE_FAILED"), stack("billing", tags=[])])

    check = final_check(aws)

    assert {(leftover.kind, leftover.name, leftover.state) for leftover in check.billable} == {
        ("CloudFormation stack", "churnguard", "DELETE_FAILED"),
        ("DB cluster", "churnguard-db", "available"),
    }


def test_resources_of_a_live_stack_are_left_alone(aws: AwsClients, stack_answers: StackAnswers) -> None:
    sagemaker = boto3.client("sagemaker", region_name=REGION)
    stack_tag = {"Key": "aws:cloudformation:stack-name", "Value": "churnguard"}
    _endpoint(sagemaker, "churnguard-stack-endpoint", PROJECT, extra=[stack_tag])
    stack_answers.answer([stack("churnguard")])

    outcome = sweep(aws, dry_run=False, live_stacks=live_stack_names(aws))

    left_alone = {leftover.name: reason for leftover, reason in outcome.left_alone}
    assert left_alone == {"churnguard-stack-endpoint": "belongs to live stack churnguard"}
    assert "churnguard-stack-endpoint" in inventory()["endpoints"]


def test_running_jobs_are_stopped_and_a_refused_stop_is_reported(aws: AwsClients) -> None:
    # moto finishes training jobs at once and cannot stop them, so SageMaker's answers are stubbed here.
    sagemaker = boto3.client("sagemaker", region_name=REGION)
    stubber = Stubber(sagemaker)
    arn = "arn:aws:sagemaker:us-east-1:123456789012:training-job/"
    summaries = [
        {
            "TrainingJobName": name,
            "TrainingJobArn": arn + name,
            "CreationTime": "2026-11-23T10:00:00Z",
            "TrainingJobStatus": "InProgress",
        }
        for name in ("churnguard-train-2", "churnguard-train-3", "billing-train-2")
    ]
    stubber.add_response(
        "list_training_jobs", {"TrainingJobSummaries": summaries}, {"StatusEquals": "InProgress"}
    )
    stubber.add_response("list_tags", {"Tags": PROJECT}, {"ResourceArn": arn + "churnguard-train-2"})
    stubber.add_response("list_tags", {"Tags": PROJECT}, {"ResourceArn": arn + "churnguard-train-3"})
    stubber.add_response("stop_training_job", {}, {"TrainingJobName": "churnguard-train-2"})
    stubber.add_client_error(
        "stop_training_job",
        "ValidationException",
        "The job is already stopping",
        expected_params={"TrainingJobName": "churnguard-train-3"},
    )
    stubber.activate()

    outcome = sweep(
        dataclasses.replace(aws, sagemaker=sagemaker),
        dry_run=False,
        live_stacks=set(),
        finders=[SageMakerJobFinder(tuning=False)],
    )

    stubber.assert_no_pending_responses()
    assert [leftover.name for leftover in outcome.removed] == ["churnguard-train-2"]
    assert [(leftover.name, reason) for leftover, reason in outcome.failed] == [
        ("churnguard-train-3", "ValidationException: The job is already stopping")
    ]


@pytest.mark.parametrize("status", ["DELETE_COMPLETE"])
def test_deleted_stacks_are_not_live(aws: AwsClients, stack_answers: StackAnswers, status: str) -> None:
    stack_answers.answer([stack("churnguard", status), stack("churnguard-old")])

    assert live_stack_names(aws) == {"churnguard-old"}
