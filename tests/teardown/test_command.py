"""`churnguard teardown` as a user runs it (moto account; CloudFormation answers stubbed, see conftest)."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import boto3
import pytest

import churnguard.commands.teardown as teardown_command
from churnguard.cli import main
from churnguard.errors import UserError
from churnguard.teardown.cdk_destroy import CdkDestroyFailed
from churnguard.teardown.clients import AwsClients, clients_for
from churnguard.teardown.stack_deletion import Waiting, finish_deletion
from tests.teardown.conftest import PROJECT, REGION, StackAnswers, inventory, seed_account, stack


@pytest.fixture
def stubbed_stacks(stack_answers: StackAnswers, monkeypatch: pytest.MonkeyPatch) -> StackAnswers:
    def clients_with_stubbed_stacks(session: boto3.Session) -> AwsClients:
        return dataclasses.replace(clients_for(session), cloudformation=stack_answers.client)

    monkeypatch.setattr(teardown_command, "clients_for", clients_with_stubbed_stacks)
    return stack_answers


def test_sweep_and_final_check_exit_0_when_nothing_is_left(
    stubbed_stacks: StackAnswers, capsys: pytest.CaptureFixture[str]
) -> None:
    seed_account()
    stubbed_stacks.answer([], times=2)

    assert main(["teardown", "--skip-cdk", "--region", REGION]) == 0

    out = capsys.readouterr().out
    assert "delete: SageMaker endpoint churnguard-endpoint (InService)" in out
    assert "empty and delete: S3 bucket churnguard-data-bucket" in out
    assert "being deleted by AWS: Secrets Manager secret DatabaseAppUserSecret9C33AA81-AbCdEfGh" in out
    assert "Final check: nothing billable left once AWS finishes the deletions above." in out
    assert "not touched (named like the project, lacks its tags): S3 bucket churnguard-untagged-bucket" in out
    assert "billing" not in out and "churnguardian" not in out
    assert "not-a-real-password" not in out
    assert "churnguard-endpoint" not in inventory()["endpoints"]


def test_dry_run_lists_and_removes_nothing(
    stubbed_stacks: StackAnswers, capsys: pytest.CaptureFixture[str]
) -> None:
    seed_account()
    before = inventory()
    stubbed_stacks.answer([stack("churnguard")], times=2)  # dry-run lists the stacks cdk would destroy

    assert main(["teardown", "--dry-run", "--region", REGION]) == 0

    out = capsys.readouterr().out
    assert "would run: npx --no-install cdk destroy --all --force" in out
    assert "project stacks: churnguard" in out
    assert "would delete: SageMaker endpoint churnguard-endpoint" in out
    assert "would schedule deletion in 7 days: KMS key alias/churnguard-data" in out
    assert "dry run: nothing was removed" in out
    assert inventory() == before


def test_cdk_destroy_runs_before_the_sweep(
    stubbed_stacks: StackAnswers, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    seed_account()
    stubbed_stacks.answer([], times=2)
    seen_at_destroy: list[set[str]] = []

    def fake_destroy(region: str, project_root: Path, context: list[str]) -> None:
        assert context == ["stage=dev"]
        seen_at_destroy.append(inventory()["endpoints"])

    monkeypatch.setattr(teardown_command, "run_cdk_destroy", fake_destroy)

    assert main(["teardown", "--region", REGION, "-c", "stage=dev"]) == 0

    assert seen_at_destroy and "churnguard-endpoint" in seen_at_destroy[0]
    assert "running: npx --no-install cdk destroy --all --force -c stage=dev" in capsys.readouterr().out


def test_failed_cdk_destroy_sweeps_nothing(
    stubbed_stacks: StackAnswers, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    seed_account()
    before = inventory()

    def failing_destroy(region: str, project_root: Path, context: list[str]) -> None:
        raise UserError(
            "`npx --no-install cdk destroy --all --force` failed with exit code 1; nothing was swept."
        )

    monkeypatch.setattr(teardown_command, "run_cdk_destroy", failing_destroy)

    assert main(["teardown", "--region", REGION]) == 2
    assert "nothing was swept" in capsys.readouterr().err
    assert inventory() == before


def test_exit_1_lists_what_is_still_billable(
    stubbed_stacks: StackAnswers, capsys: pytest.CaptureFixture[str]
) -> None:
    boto3.client("rds", region_name=REGION).create_db_cluster(
        DBClusterIdentifier="churnguard-db",
        Engine="aurora-mysql",
        MasterUsername="admin",
        MasterUserPassword="not-a-real-password-1",
        Tags=PROJECT,
    )
    stubbed_stacks.answer([stack("churnguard", "DELETE_FAILED")], times=2)

    assert main(["teardown", "--skip-cdk", "--region", REGION]) == 1

    out = capsys.readouterr().out
    assert "Final check: STILL BILLABLE, 2 not priced:" in out
    assert "CloudFormation stack churnguard (DELETE_FAILED): not priced: its resources bill" in out
    assert "DB cluster churnguard-db (available): not priced: billed per instance- or ACU-hour" in out
    assert "nothing billable left" not in out
    assert "not-a-real-password-1" not in out


def _without_aws_configuration(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, **env: Any) -> None:
    for name in (
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
        "AWS_REGION",
        "AWS_DEFAULT_REGION",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    for name, value in env.items():
        monkeypatch.setenv(name, value)


def test_no_credentials_is_a_clear_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _without_aws_configuration(monkeypatch, tmp_path)

    assert main(["teardown", "--skip-cdk", "--region", REGION]) == 2
    assert "no AWS credentials found: set AWS_PROFILE" in capsys.readouterr().err


def test_no_region_is_a_clear_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _without_aws_configuration(monkeypatch, tmp_path, AWS_ACCESS_KEY_ID="x", AWS_SECRET_ACCESS_KEY="y")

    assert main(["teardown", "--skip-cdk"]) == 2
    assert "no AWS region: pass --region" in capsys.readouterr().err


def test_a_stack_cdk_destroy_left_delete_failed_is_finished_then_swept_and_checked(
    stubbed_stacks: StackAnswers, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.teardown import test_stack_deletion as deletion

    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket=deletion.LOG_BUCKET)
    deletion.late_logs(2)
    stubs = {"cloudformation": stubbed_stacks.stubber}

    def failing_destroy(region: str, project_root: Path, context: list[str]) -> None:
        raise CdkDestroyFailed("`npx --no-install cdk destroy --all --force` failed with exit code 1")

    def cloudformation_deletes_the_bucket(_: float) -> None:
        s3.delete_bucket(Bucket=deletion.LOG_BUCKET)  # refused had it not been emptied first

    fast = Waiting(sleep=cloudformation_deletes_the_bucket)
    monkeypatch.setattr(teardown_command, "run_cdk_destroy", failing_destroy)
    monkeypatch.setattr(
        teardown_command, "finish_deletion", lambda aws, name: finish_deletion(aws, name, fast)
    )
    stubbed_stacks.answer([stack(deletion.STACK, "DELETE_FAILED")])  # which stacks failed
    deletion.describe(stubs, "DELETE_FAILED", name=deletion.STACK)
    deletion.resources(stubs, bucket="DELETE_FAILED")
    deletion.delete(stubs)
    deletion.describe(stubs, "DELETE_IN_PROGRESS")
    deletion.describe(stubs, "DELETE_COMPLETE")
    stubbed_stacks.answer([], times=2)  # the sweep's live stacks, the final check's stacks

    assert main(["teardown", "--region", REGION]) == 0

    out = capsys.readouterr().out
    assert f"`cdk destroy` left {deletion.STACK} DELETE_FAILED; emptying what arrived late" in out
    assert f"emptied S3 bucket {deletion.LOG_BUCKET} again (2 objects arrived" in out
    assert f"no network interfaces left in {deletion.VPC}" in out
    assert f"  {deletion.STACK}: deleted" in out
    assert out.rstrip().endswith("Final check: nothing billable left.")
    assert deletion.LOG_BUCKET not in inventory()["buckets"]


def test_a_failed_cdk_destroy_without_a_failed_stack_still_sweeps_nothing(
    stubbed_stacks: StackAnswers, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    seed_account()
    before = inventory()

    def failing_destroy(region: str, project_root: Path, context: list[str]) -> None:
        raise CdkDestroyFailed("`cdk destroy` failed with exit code 1; nothing was swept.")

    monkeypatch.setattr(teardown_command, "run_cdk_destroy", failing_destroy)
    stubbed_stacks.answer([stack("churnguard-dev", "CREATE_COMPLETE")])  # e.g. the synth failed

    assert main(["teardown", "--region", REGION]) == 2
    assert "nothing was swept" in capsys.readouterr().err
    assert inventory() == before


def test_a_misspelt_context_option_is_refused_before_anything_is_asked_or_destroyed(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def no_aws(session: boto3.Session) -> AwsClients:
        raise AssertionError("no AWS client may be made for options that are refused")

    monkeypatch.setattr(teardown_command, "clients_for", no_aws)

    assert main(["teardown", "--region", REGION, "-c", "stgae=prod"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("churnguard teardown: error: unknown option 'stgae' (did you mean stage?)")
