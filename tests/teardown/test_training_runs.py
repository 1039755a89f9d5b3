"""Teardown finds what a `churnguard train --sagemaker` run left in S3 when it died before cleaning up."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from churnguard.teardown.clients import AwsClients, clients_for
from churnguard.teardown.leftovers import TrainingRunFinder, sweep_finders
from tests.teardown.conftest import OTHER_TEAM, PROJECT, REGION, ROLE

BUCKET = "churnguard-dev-databucketdata-abc123"
RUN = "churnguard-261126-120000"
# A run whose rows stayed in Aurora: its channels were written under tmp/training/.
TABLE_RUN = "churnguard-261127-080000"
KEYS = [
    f"model/{RUN}/staging/train/part-00000.csv",
    f"model/{RUN}/staging/feature_spec.json",
    f"model/{RUN}/output/{RUN[:28]}-hpo-001-1a2b3c4d/output/model.tar.gz",
    f"tmp/{RUN}/customers.part_00000",
    f"tmp/training/{TABLE_RUN}/staging/train/part-00000.part_00000",
    f"tmp/training/{TABLE_RUN}/aggregates/facts.part_00000",
    f"model/{TABLE_RUN}/staging/feature_spec.json",
    "model/churnguard-261001-090000/kept-by-hand.txt",
    "tmp/churnguard-verify-abc/customers.part_00000",
    "exports/customers.part_00000",
]


def _tuning_job(
    sagemaker: Any, name: str, run: str, tags: list[dict[str, str]], staging: str = "model/{run}/staging/"
) -> None:
    sagemaker.create_hyper_parameter_tuning_job(
        HyperParameterTuningJobName=name,
        HyperParameterTuningJobConfig={
            "Strategy": "Bayesian",
            "ResourceLimits": {"MaxNumberOfTrainingJobs": 20, "MaxParallelTrainingJobs": 2},
        },
        TrainingJobDefinition={
            "AlgorithmSpecification": {"TrainingImage": "xgboost", "TrainingInputMode": "File"},
            "RoleArn": ROLE,
            "InputDataConfig": [
                {
                    "ChannelName": channel,
                    "DataSource": {
                        "S3DataSource": {
                            "S3DataType": "S3Prefix",
                            "S3Uri": f"s3://{BUCKET}/{staging.format(run=run)}{channel}/",
                        }
                    },
                }
                for channel in ("train", "validation")
            ],
            "OutputDataConfig": {"S3OutputPath": f"s3://{BUCKET}/model/{run}/output/"},
            "ResourceConfig": {"InstanceType": "ml.m5.xlarge", "InstanceCount": 1, "VolumeSizeInGB": 10},
            "StoppingCondition": {"MaxRuntimeInSeconds": 3600},
        },
        Tags=tags,
    )


@pytest.fixture()
def account() -> Iterator[AwsClients]:
    with mock_aws():
        session = boto3.session.Session(region_name=REGION)
        s3 = session.client("s3")
        s3.create_bucket(Bucket=BUCKET)
        for key in KEYS:
            s3.put_object(Bucket=BUCKET, Key=key, Body=b"1,0.5\n")
        sagemaker = session.client("sagemaker")
        _tuning_job(sagemaker, f"{RUN[:28]}-hpo", RUN, PROJECT)
        _tuning_job(sagemaker, f"{TABLE_RUN[:28]}-hpo", TABLE_RUN, PROJECT, "tmp/training/{run}/staging/")
        # Named like ours but another team's, and ours by tag but pointing at someone's folder.
        _tuning_job(sagemaker, "churnguard-261001-090000-hpo", "churnguard-261001-090000", OTHER_TEAM)
        _tuning_job(sagemaker, "churnguard-odd-hpo", "billing-run", PROJECT)
        yield clients_for(session)


def _keys(aws: AwsClients) -> set[str]:
    return {item["Key"] for item in aws.s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])}


def test_a_dead_runs_staging_outputs_and_export_are_found(account: AwsClients) -> None:
    found = TrainingRunFinder().find(account)
    assert sorted(leftover.name for leftover in found) == [
        f"s3://{BUCKET}/model/{RUN}/",
        f"s3://{BUCKET}/model/{TABLE_RUN}/",
        f"s3://{BUCKET}/tmp/{RUN}/",
        f"s3://{BUCKET}/tmp/training/{TABLE_RUN}/",
    ]
    assert all(leftover.billable and leftover.owned and leftover.stored_gb for leftover in found)


def test_removing_them_touches_nothing_else(account: AwsClients) -> None:
    finder = TrainingRunFinder()
    for leftover in finder.find(account):
        finder.remove(account, leftover)
    assert _keys(account) == set(KEYS[7:])
    assert finder.find(account) == []


def test_the_sweep_looks_for_runs_before_buckets() -> None:
    kinds = [finder.kind for finder in sweep_finders()]
    assert kinds.index("training run objects") < kinds.index("S3 bucket")
