"""Launching the same training on SageMaker: one training job and one hyper-parameter tuning job.

Both use the built-in XGBoost algorithm of the pinned container version on CSVs prepared here
(label first, no header, the full feature spec's columns), search the same ranges as the local
search, and write under the data bucket's model prefix. Every job is named with NAME_PREFIX and
tagged with PROJECT_TAGS so teardown finds it; traffic between containers is encrypted, the
containers get no network access, and uploads are encrypted at rest.
"""

from __future__ import annotations

import io
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import boto3
import numpy as np
import pandas as pd

from churnguard.constants import NAME_PREFIX, PROJECT_TAGS, XGBOOST_CONTAINER_VERSION
from churnguard.errors import UserError
from training.features import build_feature_spec, feature_matrix, labels
from training.search import EARLY_STOPPING_ROUNDS, HYPERPARAMETER_RANGES, REFERENCE_HYPERPARAMETERS
from training.split import SplitRule, split_customers

# Where the stack's data bucket keeps model inputs and artifacts (infra/data_bucket.py MODEL_PREFIX).
MODEL_PREFIX = "model/"
DEFAULT_INSTANCE_TYPE = "ml.m5.xlarge"
MAX_RUNTIME_SECONDS = 3600
# SageMaker limits tuning job names to 32 characters and training job names to 63.
_TUNING_NAME_LIMIT = 32
_ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]+$")
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")


@dataclass(frozen=True)
class LaunchSettings:
    bucket: str
    role_arn: str
    region: str
    run_name: str
    instance_type: str = DEFAULT_INSTANCE_TYPE
    max_jobs: int = 20
    max_parallel_jobs: int = 2
    kms_key_id: str | None = None

    def __post_init__(self) -> None:
        if not _BUCKET.match(self.bucket):
            raise UserError(f"--bucket {self.bucket!r} is not an S3 bucket name")
        if not _ROLE_ARN.match(self.role_arn):
            raise UserError(
                f"--role-arn {self.role_arn!r} is not an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME)"
            )
        if not 1 <= self.max_parallel_jobs <= self.max_jobs:
            raise UserError(
                f"the tuning job needs 1 <= parallel jobs <= jobs, got {self.max_parallel_jobs} parallel "
                f"and {self.max_jobs} jobs (--trials with --sagemaker sets the jobs)"
            )

    @property
    def run_prefix(self) -> str:
        return f"{MODEL_PREFIX}{self.run_name}/"

    @property
    def training_job_name(self) -> str:
        return f"{self.run_name}-train"

    @property
    def tuning_job_name(self) -> str:
        return f"{self.run_name[: _TUNING_NAME_LIMIT - 4]}-hpo"


def default_run_name(now: datetime | None = None) -> str:
    """NAME_PREFIX and a UTC timestamp: unique per launch, sortable, short enough for a tuning job."""
    moment = now or datetime.now(UTC)
    return f"{NAME_PREFIX}-{moment:%y%m%d-%H%M%S}"


def training_image(region: str) -> str:
    """The built-in XGBoost image of the pinned version (the SDK's table: no network needed)."""
    from sagemaker import image_uris  # imported late: the SDK is slow to import and only needed here

    return image_uris.retrieve("xgboost", region, XGBOOST_CONTAINER_VERSION)


def prepare_csvs(customers: pd.DataFrame, *, split: SplitRule, seed: int) -> dict[str, bytes]:
    """train.csv / validation.csv in the built-in algorithm's CSV form, plus the feature spec they follow."""
    customers = customers.reset_index(drop=True)
    parts = split_customers(customers, split, seed)
    spec = build_feature_spec(customers.iloc[parts.train])
    matrix = np.column_stack([labels(customers), feature_matrix(customers, spec)])
    files = {}
    for name, rows in (("train", parts.train), ("validation", parts.validation)):
        buffer = io.StringIO()
        # repr-exact floats: the container parses the same float64 values the local run trains on.
        np.savetxt(buffer, matrix[rows], delimiter=",", fmt="%.17g")
        files[f"{name}.csv"] = buffer.getvalue().encode("ascii")
    files["feature_spec.json"] = json.dumps({"features": spec.names, "feature_spec": spec.to_json()}).encode()
    return files


def _tags() -> list[dict[str, str]]:
    return [{"Key": key, "Value": value} for key, value in PROJECT_TAGS.items()]


def _common_job_parts(settings: LaunchSettings, image: str) -> dict[str, Any]:
    output: dict[str, Any] = {"S3OutputPath": f"s3://{settings.bucket}/{settings.run_prefix}output/"}
    resources: dict[str, Any] = {
        "InstanceType": settings.instance_type,
        "InstanceCount": 1,
        "VolumeSizeInGB": 10,
    }
    if settings.kms_key_id:
        output["KmsKeyId"] = settings.kms_key_id
        resources["VolumeKmsKeyId"] = settings.kms_key_id
    return {
        "AlgorithmSpecification": {"TrainingImage": image, "TrainingInputMode": "File"},
        "RoleArn": settings.role_arn,
        "InputDataConfig": [
            {
                "ChannelName": channel,
                "ContentType": "text/csv",
                "DataSource": {
                    "S3DataSource": {
                        "S3DataType": "S3Prefix",
                        "S3Uri": f"s3://{settings.bucket}/{settings.run_prefix}data/{channel}.csv",
                        "S3DataDistributionType": "FullyReplicated",
                    }
                },
            }
            for channel in ("train", "validation")
        ],
        "OutputDataConfig": output,
        "ResourceConfig": resources,
        "StoppingCondition": {"MaxRuntimeInSeconds": MAX_RUNTIME_SECONDS},
        "EnableNetworkIsolation": True,
        "EnableInterContainerTrafficEncryption": True,
    }


def _static_hyperparameters(seed: int) -> dict[str, str]:
    return {
        "objective": "binary:logistic",
        "eval_metric": "auc",
        "early_stopping_rounds": str(EARLY_STOPPING_ROUNDS),
        "seed": str(seed),
    }


def training_job_request(settings: LaunchSettings, image: str, seed: int) -> dict[str, Any]:
    """CreateTrainingJob with the reference's hyper-parameters: a baseline for the tuning job."""
    hyperparameters = {name: str(value) for name, value in REFERENCE_HYPERPARAMETERS.items()}
    return {
        "TrainingJobName": settings.training_job_name,
        "HyperParameters": {**_static_hyperparameters(seed), **hyperparameters},
        **_common_job_parts(settings, image),
        "Tags": _tags(),
    }


def tuning_job_request(settings: LaunchSettings, image: str, seed: int) -> dict[str, Any]:
    """CreateHyperParameterTuningJob over HYPERPARAMETER_RANGES, maximising validation AUC.

    Each job is judged on the one validation part, not on the local search's five folds: the tuner
    reads only metrics the built-in algorithm computes on its validation channel (docs/training.md,
    "What the SageMaker tuning job cannot do the local way").
    """
    continuous = [
        {"Name": name, "MinValue": str(low), "MaxValue": str(high), "ScalingType": "Auto"}
        for name, (low, high, is_integer) in HYPERPARAMETER_RANGES.items()
        if not is_integer
    ]
    integer = [
        {"Name": name, "MinValue": str(int(low)), "MaxValue": str(int(high)), "ScalingType": "Auto"}
        for name, (low, high, is_integer) in HYPERPARAMETER_RANGES.items()
        if is_integer
    ]
    return {
        "HyperParameterTuningJobName": settings.tuning_job_name,
        "HyperParameterTuningJobConfig": {
            "Strategy": "Bayesian",
            "HyperParameterTuningJobObjective": {"Type": "Maximize", "MetricName": "validation:auc"},
            "ResourceLimits": {
                "MaxNumberOfTrainingJobs": settings.max_jobs,
                "MaxParallelTrainingJobs": settings.max_parallel_jobs,
            },
            "ParameterRanges": {
                "ContinuousParameterRanges": continuous,
                "IntegerParameterRanges": integer,
                "CategoricalParameterRanges": [],
            },
            "TrainingJobEarlyStoppingType": "Auto",
        },
        "TrainingJobDefinition": {
            "StaticHyperParameters": _static_hyperparameters(seed),
            **_common_job_parts(settings, image),
        },
        "Tags": _tags(),
    }


@dataclass(frozen=True)
class LaunchResult:
    training_job_name: str
    tuning_job_name: str
    data_uris: dict[str, str]
    output_uri: str


def launch(
    customers: pd.DataFrame,
    settings: LaunchSettings,
    *,
    split: SplitRule = "project",
    seed: int = 1729,
    session: boto3.session.Session | None = None,
    image: str | None = None,
) -> LaunchResult:
    """Upload the prepared CSVs, then start the training job and the tuning job (without waiting)."""
    session = session or boto3.session.Session(region_name=settings.region)
    s3 = session.client("s3", region_name=settings.region)
    sagemaker = session.client("sagemaker", region_name=settings.region)
    image = image or training_image(settings.region)
    encryption: dict[str, str] = (
        {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": settings.kms_key_id}
        if settings.kms_key_id
        else {"ServerSideEncryption": "AES256"}
    )
    data_uris = {}
    for name, body in prepare_csvs(customers, split=split, seed=seed).items():
        key = f"{settings.run_prefix}data/{name}"
        s3.put_object(Bucket=settings.bucket, Key=key, Body=body, **encryption)
        data_uris[name] = f"s3://{settings.bucket}/{key}"
    sagemaker.create_training_job(**training_job_request(settings, image, seed))
    sagemaker.create_hyper_parameter_tuning_job(**tuning_job_request(settings, image, seed))
    return LaunchResult(
        training_job_name=settings.training_job_name,
        tuning_job_name=settings.tuning_job_name,
        data_uris=data_uris,
        output_uri=f"s3://{settings.bucket}/{settings.run_prefix}output/",
    )
