"""A mocked AWS account (moto) holding leftovers of churnguard and of other teams side by side.

moto 5 cannot load its CloudFormation backend here (it needs extras this project does not install),
so the CloudFormation client is a botocore Stubber: canned DescribeStacks answers checked against
the real API model, queued per test, and verified all used.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from churnguard.teardown.clients import AwsClients, clients_for
from churnguard.teardown.leftovers import Leftover

REGION = "us-east-1"
ROLE = "arn:aws:iam::123456789012:role/sagemaker-execution"
PROJECT = [{"Key": "project", "Value": "churnguard"}]
OTHER_TEAM = [{"Key": "project", "Value": "billing"}]
KMS_PROJECT = [{"TagKey": "project", "TagValue": "churnguard"}]

# What the sweep must remove, as (kind, name) pairs the final report uses.
PROJECT_LEFTOVERS = {
    ("SageMaker endpoint", "churnguard-endpoint"),
    ("SageMaker endpoint config", "churnguard-endpoint-config"),
    ("SageMaker model", "churnguard-model"),
    ("training artifacts", "s3://shared-ml-bucket/jobs/churnguard-train-1/"),
    ("log group", "/aws/lambda/churnguard-recommend"),
    ("log group", "/aws/sagemaker/Endpoints/churnguard-endpoint"),
    ("log group", "/aws/rds/cluster/churnguard-db/error"),
    ("DB cluster snapshot", "churnguard-final-snapshot"),
    ("S3 bucket", "churnguard-data-bucket"),
    ("KMS key", "alias/churnguard-data"),
    ("KMS key", "churnguard: Aurora storage and database secrets"),
    ("Secrets Manager secret", "DatabaseAppUserSecret9C33AA81-AbCdEfGh"),
}

# Named like the project but lacking its tags: reported as "not touched", never removed.
NAMED_LIKE_THE_PROJECT = {
    ("SageMaker model", "churnguard-hand-made"),
    ("SageMaker endpoint", "churnguard-other-team-endpoint"),
    ("SageMaker endpoint config", "churnguard-other-team-endpoint-config-of"),
    ("SageMaker model", "churnguard-other-team-endpoint-model-of"),
    ("log group", "/aws/lambda/churnguard-by-hand"),
    ("DB cluster snapshot", "churnguard-manual"),
    ("S3 bucket", "churnguard-untagged-bucket"),
    ("KMS key", "churnguard: made by hand, untagged"),
    ("Secrets Manager secret", "churnguard-by-hand"),
}
# The description CDK's app-user secret carries (infra/database.py); CloudFormation names the secret
# after its construct, so the description is what says it is the project's.
APP_SECRET_DESCRIPTION = "churnguard: application database user (Data API, call centre, API)"


@pytest.fixture
def aws_account(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "AWS_EC2_METADATA_DISABLED": "true",
    }.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        yield


class StackAnswers:
    """Queues DescribeStacks answers on a stubbed CloudFormation client."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.stubber = Stubber(client)
        self.stubber.activate()

    def answer(self, stacks: list[dict[str, Any]] | None = None, *, times: int = 1) -> None:
        for _ in range(times):
            self.stubber.add_response("describe_stacks", {"Stacks": stacks or []})


def stack(
    name: str, status: str = "CREATE_COMPLETE", tags: list[dict[str, str]] | None = None
) -> dict[str, Any]:
    return {
        "StackName": name,
        "StackStatus": status,
        "CreationTime": datetime(2026, 11, 1, tzinfo=UTC),
        "Tags": tags if tags is not None else PROJECT,
    }


@pytest.fixture
def stack_answers(aws_account: None) -> Iterator[StackAnswers]:
    answers = StackAnswers(boto3.client("cloudformation", region_name=REGION))
    yield answers
    answers.stubber.assert_no_pending_responses()


@pytest.fixture
def aws(stack_answers: StackAnswers) -> AwsClients:
    clients = clients_for(boto3.Session(region_name=REGION))
    return dataclasses.replace(clients, cloudformation=stack_answers.client)


def _model(sagemaker: Any, name: str, tags: list[dict[str, str]]) -> None:
    sagemaker.create_model(
        ModelName=name,
        ExecutionRoleArn=ROLE,
        PrimaryContainer={"Image": "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:3.0-5"},
        Tags=tags,
    )


def _endpoint(
    sagemaker: Any, name: str, tags: list[dict[str, str]], *, extra: list[dict[str, str]] = ()
) -> None:
    _model(sagemaker, f"{name}-model-of", tags)
    sagemaker.create_endpoint_config(
        EndpointConfigName=f"{name}-config-of",
        ProductionVariants=[
            {
                "VariantName": "main",
                "ModelName": f"{name}-model-of",
                "ServerlessConfig": {"MemorySizeInMB": 2048, "MaxConcurrency": 2},
            }
        ],
        Tags=tags,
    )
    sagemaker.create_endpoint(EndpointName=name, EndpointConfigName=f"{name}-config-of", Tags=[*tags, *extra])


def _training_job(sagemaker: Any, name: str, output: str, tags: list[dict[str, str]]) -> None:
    sagemaker.create_training_job(
        TrainingJobName=name,
        AlgorithmSpecification={"TrainingImage": "xgboost", "TrainingInputMode": "File"},
        RoleArn=ROLE,
        OutputDataConfig={"S3OutputPath": output},
        ResourceConfig={"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 5},
        StoppingCondition={"MaxRuntimeInSeconds": 600},
        Tags=tags,
    )


def _log_group(logs: Any, name: str, tags: list[dict[str, str]]) -> None:
    if tags:
        logs.create_log_group(logGroupName=name, tags={tag["Key"]: tag["Value"] for tag in tags})
    else:
        logs.create_log_group(logGroupName=name)


def _bucket(s3: Any, name: str, tags: list[dict[str, str]], keys: list[str]) -> None:
    s3.create_bucket(Bucket=name)
    if tags:
        s3.put_bucket_tagging(Bucket=name, Tagging={"TagSet": tags})
    for key in keys:
        s3.put_object(Bucket=name, Key=key, Body=b"artifact")


def _secret(name: str, description: str, tags: list[dict[str, str]]) -> str:
    secrets = boto3.client("secretsmanager", region_name=REGION)
    created = secrets.create_secret(
        Name=name, Description=description, SecretString='{"password": "not-a-real-password-2"}', Tags=tags
    )
    return created["ARN"]


def seed_account() -> None:
    """Leftovers of the project (PROJECT_LEFTOVERS) next to look-alikes the sweep must not touch."""
    sagemaker = boto3.client("sagemaker", region_name=REGION)
    s3 = boto3.client("s3", region_name=REGION)
    logs = boto3.client("logs", region_name=REGION)
    rds = boto3.client("rds", region_name=REGION)
    kms = boto3.client("kms", region_name=REGION)

    # The project's own: tagged AND named with the prefix.
    _model(sagemaker, "churnguard-model", PROJECT)
    _endpoint(sagemaker, "churnguard-endpoint", PROJECT)
    sagemaker.delete_model(ModelName="churnguard-endpoint-model-of")  # keep the expected set small
    sagemaker.delete_endpoint_config(EndpointConfigName="churnguard-endpoint-config-of")
    sagemaker.create_endpoint_config(
        EndpointConfigName="churnguard-endpoint-config",
        ProductionVariants=[
            {
                "VariantName": "main",
                "ModelName": "churnguard-model",
                "InitialInstanceCount": 1,
                "InstanceType": "ml.m5.large",
            }
        ],
        Tags=PROJECT,
    )
    _bucket(
        s3,
        "shared-ml-bucket",
        [],
        ["jobs/churnguard-train-1/output/model.tar.gz", "jobs/other-job/model.tar.gz", "notes.txt"],
    )
    _training_job(sagemaker, "churnguard-train-1", "s3://shared-ml-bucket/jobs", PROJECT)
    _log_group(logs, "/aws/lambda/churnguard-recommend", PROJECT)
    _log_group(logs, "/aws/sagemaker/Endpoints/churnguard-endpoint", PROJECT)
    _log_group(logs, "/aws/rds/cluster/churnguard-db/error", PROJECT)
    rds.create_db_cluster(
        DBClusterIdentifier="other-team-db",
        Engine="aurora-mysql",
        MasterUsername="admin",
        MasterUserPassword="not-a-real-password-1",
    )
    rds.create_db_cluster_snapshot(
        DBClusterSnapshotIdentifier="churnguard-final-snapshot",
        DBClusterIdentifier="other-team-db",
        Tags=PROJECT,
    )
    _bucket(s3, "churnguard-data-bucket", PROJECT, ["customers/export.csv", "model/model.tar.gz"])
    key_id = kms.create_key(Tags=[{"TagKey": "project", "TagValue": "churnguard"}])["KeyMetadata"]["KeyId"]
    kms.create_alias(AliasName="alias/churnguard-data", TargetKeyId=key_id)
    kms.create_key(Description="churnguard: Aurora storage and database secrets", Tags=KMS_PROJECT)
    _secret("DatabaseAppUserSecret9C33AA81-AbCdEfGh", APP_SECRET_DESCRIPTION, PROJECT)

    # Someone else's: untagged with our prefix, tagged with another prefix, our prefix but another tag value,
    # a longer word that merely starts with our prefix, and SageMaker's shared log group.
    _model(sagemaker, "churnguard-hand-made", [])
    _endpoint(sagemaker, "billing-endpoint", PROJECT)
    _endpoint(sagemaker, "churnguard-other-team-endpoint", OTHER_TEAM)
    _model(sagemaker, "churnguardian-model", PROJECT)
    _training_job(sagemaker, "billing-train", "s3://shared-ml-bucket/jobs", PROJECT)
    _log_group(logs, "/aws/lambda/churnguard-by-hand", [])
    _log_group(logs, "/aws/lambda/billing-fn", PROJECT)
    _log_group(logs, "/aws/sagemaker/TrainingJobs", [])
    _log_group(logs, "/aws/rds/cluster/billing-db/error", PROJECT)
    rds.create_db_cluster_snapshot(
        DBClusterSnapshotIdentifier="billing-snapshot", DBClusterIdentifier="other-team-db", Tags=PROJECT
    )
    rds.create_db_cluster_snapshot(
        DBClusterSnapshotIdentifier="churnguard-manual", DBClusterIdentifier="other-team-db"
    )
    _bucket(s3, "churnguard-untagged-bucket", [], ["a.txt"])
    _bucket(s3, "billing-data", PROJECT, ["b.txt"])
    key_id = kms.create_key(Tags=[{"TagKey": "project", "TagValue": "churnguard"}])["KeyMetadata"]["KeyId"]
    kms.create_alias(AliasName="alias/billing-key", TargetKeyId=key_id)
    kms.create_key(Description="billing: invoices", Tags=KMS_PROJECT)
    kms.create_key(Description="churnguard: made by hand, untagged")
    _secret("churnguard-by-hand", "made by hand, untagged", [])
    _secret("billing-db-password", "billing: invoices database", PROJECT)


def kind_and_name(leftover: Leftover) -> tuple[str, str]:
    """A KMS key's name carries its generated id after the alias; the alias alone identifies it here."""
    return leftover.kind, leftover.name.split(" (")[0]


def inventory() -> dict[str, set[str]]:
    """Everything in the mocked account, by kind, to compare before and after."""
    sagemaker = boto3.client("sagemaker", region_name=REGION)
    s3 = boto3.client("s3", region_name=REGION)
    logs = boto3.client("logs", region_name=REGION)
    rds = boto3.client("rds", region_name=REGION)
    kms = boto3.client("kms", region_name=REGION)
    aliases = {
        alias["TargetKeyId"]: alias["AliasName"]
        for alias in kms.list_aliases()["Aliases"]
        if "TargetKeyId" in alias
    }
    objects = set()
    buckets = {bucket["Name"] for bucket in s3.list_buckets()["Buckets"]}
    for bucket in buckets:
        objects |= {
            f"{bucket}/{item['Key']}" for item in s3.list_objects_v2(Bucket=bucket).get("Contents", [])
        }
    secrets = boto3.client("secretsmanager", region_name=REGION)
    return {
        "secrets": {secret["Name"] for secret in secrets.list_secrets()["SecretList"]},  # not deleted
        "endpoints": {item["EndpointName"] for item in sagemaker.list_endpoints()["Endpoints"]},
        "endpoint configs": {
            item["EndpointConfigName"] for item in sagemaker.list_endpoint_configs()["EndpointConfigs"]
        },
        "models": {item["ModelName"] for item in sagemaker.list_models()["Models"]},
        "buckets": buckets,
        "objects": objects,
        "log groups": {group["logGroupName"] for group in logs.describe_log_groups()["logGroups"]},
        "snapshots": {
            item["DBClusterSnapshotIdentifier"]
            for item in rds.describe_db_cluster_snapshots(SnapshotType="manual")["DBClusterSnapshots"]
        },
        "keys": {
            (aliases.get(key["KeyId"]) or kms.describe_key(KeyId=key["KeyId"])["KeyMetadata"]["Description"])
            for key in kms.list_keys()["Keys"]
            if kms.describe_key(KeyId=key["KeyId"])["KeyMetadata"]["KeyState"] != "PendingDeletion"
        },
    }
