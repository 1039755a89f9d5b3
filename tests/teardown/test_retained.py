"""After `cdk destroy` of a stage=prod stack: what it retained is kept and named with its monthly cost.

The account holds what CloudFormation leaves behind when churnguard-prod is deleted (tags as CDK
writes them: project, stage, and the stack the resource came from, which no longer exists).
"""

from __future__ import annotations

import dataclasses

import boto3
import pytest

import churnguard.commands.teardown as teardown_command
from churnguard.cli import main
from churnguard.cost.prices import load_price_table
from churnguard.teardown.clients import AwsClients, clients_for
from churnguard.teardown.costs import monthly_cost, total_text
from churnguard.teardown.leftovers import Leftover
from tests.teardown.conftest import APP_SECRET_DESCRIPTION, REGION, StackAnswers, _secret, inventory

PROD_TAGS = [
    {"Key": "project", "Value": "churnguard"},
    {"Key": "stage", "Value": "prod"},
    {"Key": "aws:cloudformation:stack-name", "Value": "churnguard-prod"},
]
DEV_TAGS = [{"Key": "project", "Value": "churnguard"}, {"Key": "stage", "Value": "dev"}]
APP_SECRET = "DatabaseAppUserSecret9C33AA81-Qw3rTy12"
ERROR_LOG = "/aws/rds/cluster/churnguard-prod/error"
API_LOG = "churnguard-prod-ApiHandlerLogsEC2BACC2-Zx9Yw8"
BUCKET = "churnguard-prod-databucketdatab8c13c3a-1a2b3c4d"
SNAPSHOT = "churnguard-prod-snapshot-databasecluster5b53a178-abcd"
KEY_DESCRIPTION = "churnguard: Aurora storage and database secrets"
USER_POOL = "churnguard-prod-agents"


def retain_prod_leftovers() -> None:
    """What a deleted churnguard-prod stack leaves (infra/: RETAIN, and SNAPSHOT for the cluster)."""
    tags = PROD_TAGS
    _secret(APP_SECRET, APP_SECRET_DESCRIPTION, tags)
    logs = boto3.client("logs", region_name=REGION)
    for name in (ERROR_LOG, API_LOG):
        logs.create_log_group(logGroupName=name, tags={tag["Key"]: tag["Value"] for tag in tags})
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket=BUCKET)
    # S3 refuses aws:* tags from a caller (CloudFormation sets them itself).
    s3.put_bucket_tagging(
        Bucket=BUCKET, Tagging={"TagSet": [t for t in tags if not t["Key"].startswith("aws:")]}
    )
    s3.put_object(Bucket=BUCKET, Key="exports/customers.csv", Body=b"x" * 4096)
    kms = boto3.client("kms", region_name=REGION)
    kms.create_key(
        Description=KEY_DESCRIPTION, Tags=[{"TagKey": tag["Key"], "TagValue": tag["Value"]} for tag in tags]
    )
    rds = boto3.client("rds", region_name=REGION)
    rds.create_db_cluster(
        DBClusterIdentifier="source-of-the-snapshot",
        Engine="aurora-mysql",
        MasterUsername="admin",
        MasterUserPassword="not-a-real-password-1",
    )
    rds.create_db_cluster_snapshot(
        DBClusterSnapshotIdentifier=SNAPSHOT, DBClusterIdentifier="source-of-the-snapshot", Tags=tags
    )
    rds.delete_db_cluster(DBClusterIdentifier="source-of-the-snapshot", SkipFinalSnapshot=True)
    boto3.client("cognito-idp", region_name=REGION).create_user_pool(
        PoolName=USER_POOL,
        DeletionProtection="ACTIVE",
        UserPoolTags={tag["Key"]: tag["Value"] for tag in tags if not tag["Key"].startswith("aws:")},
    )


def user_pools() -> set[str]:
    pools = boto3.client("cognito-idp", region_name=REGION).list_user_pools(MaxResults=60)["UserPools"]
    return {pool["Name"] for pool in pools}


@pytest.fixture
def stubbed_stacks(stack_answers: StackAnswers, monkeypatch: pytest.MonkeyPatch) -> StackAnswers:
    def clients_with_stubbed_stacks(session: boto3.Session) -> AwsClients:
        return dataclasses.replace(clients_for(session), cloudformation=stack_answers.client)

    monkeypatch.setattr(teardown_command, "clients_for", clients_with_stubbed_stacks)
    return stack_answers


def test_prod_retained_resources_are_kept_and_each_named_with_its_monthly_cost(
    stubbed_stacks: StackAnswers, capsys: pytest.CaptureFixture[str]
) -> None:
    retain_prod_leftovers()
    before = inventory()
    stubbed_stacks.answer([], times=2)  # churnguard-prod is gone: cdk destroy deleted it

    assert main(["teardown", "--skip-cdk", "--region", REGION]) == 0

    out = capsys.readouterr().out
    assert inventory() == before, "retained on purpose: nothing removed without --delete-retained"
    assert user_pools() == {USER_POOL}
    assert "nothing billable left." not in out
    # 1 secret $0.40 + 1 key $1.00 + 4 KiB in the bucket + empty log groups; the snapshot is not priced.
    assert (
        "Final check: KEPT ON PURPOSE, STILL BILLING $1.40/month + 1 not priced "
        "(7 resources a stage=prod stack retains; `--delete-retained` removes them):" in out
    )
    assert f"  Secrets Manager secret {APP_SECRET} (exists): $0.40/month (1 secret x $0.40/month)" in out
    assert "KMS key churnguard: Aurora storage and database secrets (" in out
    assert "(Enabled): $1.00/month (1 customer managed key x $1.00/month)" in out
    assert f"  log group {ERROR_LOG} (stored): $0.00/month (0.000000 GB stored x $0.03/GB-month)" in out
    assert f"  log group {API_LOG} (stored): $0.00/month" in out
    assert f"  S3 bucket {BUCKET} (exists): under $0.01/month (0.000004 GB stored x $0.023/GB-month)" in out
    assert f"  DB cluster snapshot {SNAPSHOT} (available): not priced: 1 GB; Aurora backup storage" in out
    assert f"kept (a stage=prod stack retains it): Secrets Manager secret {APP_SECRET}" in out
    assert "not-a-real-password" not in out
    assert f"kept (a stage=prod stack retains it): Cognito user pool {USER_POOL}" in out
    assert f"  Cognito user pool {USER_POOL} (exists): $0.00/month (not billed)" in out


def test_delete_retained_removes_them_and_the_check_names_what_aws_is_still_deleting(
    stubbed_stacks: StackAnswers, capsys: pytest.CaptureFixture[str]
) -> None:
    retain_prod_leftovers()
    stubbed_stacks.answer([], times=2)

    assert main(["teardown", "--skip-cdk", "--region", REGION, "--delete-retained"]) == 0

    out = capsys.readouterr().out
    after = inventory()
    assert APP_SECRET not in after["secrets"] and BUCKET not in after["buckets"]
    assert SNAPSHOT not in after["snapshots"] and not {ERROR_LOG, API_LOG} & after["log groups"]
    assert KEY_DESCRIPTION not in after["keys"], "scheduled for deletion"
    assert user_pools() == set(), "deletion protection switched off, then the pool deleted"
    assert f"delete with a 7-day recovery window: Secrets Manager secret {APP_SECRET}" in out
    assert f"being deleted by AWS: Secrets Manager secret {APP_SECRET} (PendingDeletion): $0.40/month" in out
    assert "Final check: nothing billable left once AWS finishes the deletions above." in out


def test_a_dev_stage_secret_is_swept_not_kept(stubbed_stacks: StackAnswers) -> None:
    _secret("DatabaseAppUserSecret9C33AA81-DevDevDe", APP_SECRET_DESCRIPTION, DEV_TAGS)
    stubbed_stacks.answer([], times=2)

    assert main(["teardown", "--skip-cdk", "--region", REGION]) == 0

    assert "DatabaseAppUserSecret9C33AA81-DevDevDe" not in inventory()["secrets"]


def test_dry_run_with_delete_retained_lists_the_retained_ones_for_removal(
    stubbed_stacks: StackAnswers, capsys: pytest.CaptureFixture[str]
) -> None:
    _secret(APP_SECRET, APP_SECRET_DESCRIPTION, PROD_TAGS)
    stubbed_stacks.answer([], times=1)

    check_only = ["teardown", "--skip-cdk", "--region", REGION, "--delete-retained", "--dry-run"]
    assert main(check_only) == 0
    assert f"would delete with a 7-day recovery window: Secrets Manager secret {APP_SECRET}" in (
        capsys.readouterr().out
    )


def priced(kind: str, *, stored_gb: float | None = None, billable: bool = True) -> tuple[float | None, str]:
    cost = monthly_cost(
        Leftover(kind, "x", "exists", billable, "delete", stored_gb=stored_gb), load_price_table()
    )
    return cost.usd, cost.how


def test_monthly_cost_of_each_kind_from_the_price_table() -> None:
    assert priced("Secrets Manager secret") == (0.40, "1 secret x $0.40/month")
    assert priced("KMS key") == (1.0, "1 customer managed key x $1.00/month")
    usd, how = priced("log group", stored_gb=2.0)
    assert usd == pytest.approx(0.06) and how == "2.000000 GB stored x $0.03/GB-month"
    assert priced("S3 bucket", stored_gb=10.0)[0] == pytest.approx(0.23)
    assert priced("training artifacts", stored_gb=1.0)[0] == pytest.approx(0.023)
    assert priced("SageMaker model", billable=False) == (0.0, "not billed")
    usd, how = priced("DB cluster snapshot", stored_gb=12.0)
    assert usd is None and how.startswith("not priced: 12 GB; Aurora backup storage")
    assert priced("SageMaker endpoint")[0] is None


def test_total_says_what_is_not_priced() -> None:
    prices = load_price_table()
    secret = Leftover("Secrets Manager secret", "s", "exists", True, "delete")
    stack = Leftover("CloudFormation stack", "churnguard-prod", "DELETE_FAILED", True, "cdk destroy")
    assert total_text([secret, secret], prices) == "$0.80/month"
    assert total_text([secret, stack], prices) == "$0.40/month + 1 not priced"
    assert total_text([stack], prices) == "1 not priced"
