"""The SageMaker job requests: the tuning job (the search), the reduced model's training job, and the data.

All jobs use the built-in XGBoost algorithm of the pinned container version on CSVs prepared here
(label first, no header), search the same ranges as the local search (learning rates 0.01-0.3 on a
logarithmic scale, rounds by early stopping), read their inputs from the run's staging prefix and
write under the run's output prefix, both inside the data bucket's model prefix. Every job is named
with NAME_PREFIX and tagged with PROJECT_TAGS so teardown finds it; traffic between containers is
encrypted, the containers get no network access, and uploads are encrypted at rest.
"""

from __future__ import annotations

import io
import json
import logging
import os
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd

from churnguard.constants import NAME_PREFIX, PROJECT_TAGS, XGBOOST_CONTAINER_VERSION
from churnguard.errors import UserError
from churnguard.feature_spec import FeatureSpec
from training.features import feature_matrix, labels
from training.search import ETA_STEPS, HYPERPARAMETER_RANGES, MOST_ROUNDS, ROW_SAMPLING, patience_rounds

# Where the stack's data bucket keeps model inputs and artifacts (infra/data_bucket.py MODEL_PREFIX).
MODEL_PREFIX = "model/"
# Where Aurora writes a run's channels when the rows stay in the table (infra/data_bucket.py
# TRAINING_EXPORT_PREFIX): inside tmp/, the one prefix Aurora's S3 role writes that the bucket also
# expires, and readable by the training role.
TABLE_EXPORT_PREFIX = "tmp/training/"
DEFAULT_INSTANCE_TYPE = "ml.m5.xlarge"
DEFAULT_MAX_JOBS = 20
DEFAULT_MAX_PARALLEL_JOBS = 2
MAX_RUNTIME_SECONDS = 3600
# SageMaker limits tuning job names to 32 characters and training job names to 63.
_TUNING_NAME_LIMIT = 32
_ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]+$")
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
# The channels of every training job; the test rows are only ever scored, never trained or tuned on.
TRAIN, VALIDATION = "train", "validation"


@dataclass(frozen=True)
class LaunchSettings:
    bucket: str
    role_arn: str
    region: str
    run_name: str
    instance_type: str = DEFAULT_INSTANCE_TYPE
    # More than one instance trains each job distributed, the train channel sharded by S3 key.
    instance_count: int = 1
    max_jobs: int = DEFAULT_MAX_JOBS
    max_parallel_jobs: int = DEFAULT_MAX_PARALLEL_JOBS
    kms_key_id: str | None = None
    # The channels are written by Aurora under table_prefix instead of uploaded under staging_prefix.
    data_from_table: bool = False

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
        if self.instance_count < 1:
            raise UserError(f"--instance-count must be at least 1 (got {self.instance_count})")

    @property
    def run_prefix(self) -> str:
        return f"{MODEL_PREFIX}{self.run_name}/"

    @property
    def staging_prefix(self) -> str:
        """Where the run's CSVs go; removed when the run ends (teardown finds what a dead run left)."""
        return f"{self.run_prefix}staging/"

    @property
    def table_prefix(self) -> str:
        """Where Aurora writes the run's files when the rows stay in the table; removed at the end."""
        return f"{TABLE_EXPORT_PREFIX}{self.run_name}/"

    @property
    def channel_prefix(self) -> str:
        """The folder that holds the channels and the rows to score, whoever wrote them."""
        return f"{self.table_prefix}staging/" if self.data_from_table else self.staging_prefix

    @property
    def output_uri(self) -> str:
        return f"s3://{self.bucket}/{self.run_prefix}output/"

    def channel_uri(self, channel: str, *, reduced: bool = False) -> str:
        folder = f"reduced-{channel}" if reduced else channel
        return f"s3://{self.bucket}/{self.channel_prefix}{folder}/"

    @property
    def tuning_job_name(self) -> str:
        return f"{self.run_name[: _TUNING_NAME_LIMIT - 4]}-hpo"

    @property
    def reduced_job_name(self) -> str:
        return f"{self.run_name}-reduced"


def default_run_name(now: datetime | None = None) -> str:
    """NAME_PREFIX and a UTC timestamp: unique per launch, sortable, short enough for a tuning job."""
    moment = now or datetime.now(UTC)
    return f"{NAME_PREFIX}-{moment:%y%m%d-%H%M%S}"


def training_image(region: str) -> str:
    """The built-in XGBoost image of the pinned version (the SDK's table: no network needed)."""
    # The SDK is imported late (slow, and only needed here) and quietly: it warns about its own v2
    # deprecation and logs at INFO where it looked for config files, neither of which the user can act on.
    os.environ.setdefault("SAGEMAKER_SUPPRESS_V2_WARNING", "1")
    logging.getLogger("sagemaker.config").setLevel(logging.WARNING)
    from sagemaker import image_uris

    return image_uris.retrieve("xgboost", region, XGBOOST_CONTAINER_VERSION)


def csv_bytes(matrix: np.ndarray) -> bytes:
    """Rows in the built-in algorithm's CSV form: no header, repr-exact floats (the same float64 values
    the local run trains on)."""
    buffer = io.StringIO()
    np.savetxt(buffer, matrix, delimiter=",", fmt="%.17g")
    return buffer.getvalue().encode("ascii")


def channel_files(
    customers: pd.DataFrame, spec: FeatureSpec, rows: dict[str, np.ndarray], *, shards: int = 1
) -> dict[str, bytes]:
    """`<channel>/part-NNNNN.csv` for each channel: label first, then `spec`'s features in its order.

    The train channel is cut into `shards` files (at least one per training instance: ShardedByS3Key
    hands each instance whole objects); the others are one file each.
    """
    matrix = np.column_stack([labels(customers), feature_matrix(customers, spec)])
    files = {}
    for channel, positions in rows.items():
        pieces = np.array_split(positions, shards if channel == TRAIN else 1)
        for number, piece in enumerate(pieces):
            files[f"{channel}/part-{number:05d}.csv"] = csv_bytes(matrix[piece])
    return files


def feature_spec_file(spec: FeatureSpec) -> bytes:
    return json.dumps({"features": spec.names, "feature_spec": spec.to_json()}).encode()


def _tags() -> list[dict[str, str]]:
    return [{"Key": key, "Value": value} for key, value in PROJECT_TAGS.items()]


def _channel(name: str, uri: str, distribution: str) -> dict[str, Any]:
    return {
        "ChannelName": name,
        "ContentType": "text/csv",
        "DataSource": {
            "S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": uri, "S3DataDistributionType": distribution}
        },
    }


def _common_job_parts(settings: LaunchSettings, image: str, *, reduced: bool) -> dict[str, Any]:
    output: dict[str, Any] = {"S3OutputPath": settings.output_uri}
    resources: dict[str, Any] = {
        "InstanceType": settings.instance_type,
        "InstanceCount": settings.instance_count,
        "VolumeSizeInGB": 10,
    }
    if settings.kms_key_id:
        output["KmsKeyId"] = settings.kms_key_id
        resources["VolumeKmsKeyId"] = settings.kms_key_id
    # With several instances each gets a share of the training rows; every instance scores the whole
    # validation channel, so the metric the tuner reads is computed on the same rows.
    train_distribution = "ShardedByS3Key" if settings.instance_count > 1 else "FullyReplicated"
    return {
        "AlgorithmSpecification": {"TrainingImage": image, "TrainingInputMode": "File"},
        "RoleArn": settings.role_arn,
        "InputDataConfig": [
            _channel(TRAIN, settings.channel_uri(TRAIN, reduced=reduced), train_distribution),
            _channel(VALIDATION, settings.channel_uri(VALIDATION, reduced=reduced), "FullyReplicated"),
        ],
        "OutputDataConfig": output,
        "ResourceConfig": resources,
        "StoppingCondition": {"MaxRuntimeInSeconds": MAX_RUNTIME_SECONDS},
        "EnableNetworkIsolation": True,
        "EnableInterContainerTrafficEncryption": True,
    }


def static_hyperparameters(seed: int) -> dict[str, str]:
    """What every job gets unchanged: the local search's row sampling, the round limit and the patience of
    its slowest learning rate (the tuner cannot set the patience per job, so each job waits as long as
    eta 0.01 would)."""
    return {
        "objective": "binary:logistic",
        "eval_metric": "auc",
        "subsample": str(ROW_SAMPLING),
        "num_round": str(MOST_ROUNDS),
        "early_stopping_rounds": str(patience_rounds(ETA_STEPS[0])),
        "seed": str(seed),
    }


def tuned_ranges() -> dict[str, tuple[float, float, bool]]:
    """The local search's HYPERPARAMETER_RANGES, as the tuner gets them (num_round is static)."""
    return dict(HYPERPARAMETER_RANGES)


# The learning rate's range spans 0.01-0.3, so the tuner samples it on a log scale, as the local steps are
# spaced; AWS's guidance: "Choose logarithmic scaling when you're searching a range that spans several
# orders of magnitude."
SCALING = {"eta": "Logarithmic"}


def tuning_job_request(settings: LaunchSettings, image: str, seed: int) -> dict[str, Any]:
    """CreateHyperParameterTuningJob over the local search's ranges, maximising validation AUC.

    Each job is judged on the one validation part, not on the local search's five folds: the tuner
    reads only metrics the built-in algorithm computes on its validation channel (docs/training.md,
    "Training on SageMaker").
    """
    ranges = tuned_ranges()
    continuous = [
        {"Name": name, "MinValue": str(low), "MaxValue": str(high), "ScalingType": SCALING.get(name, "Auto")}
        for name, (low, high, is_integer) in ranges.items()
        if not is_integer
    ]
    integer = [
        {"Name": name, "MinValue": str(int(low)), "MaxValue": str(int(high)), "ScalingType": "Auto"}
        for name, (low, high, is_integer) in ranges.items()
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
            "StaticHyperParameters": static_hyperparameters(seed),
            **_common_job_parts(settings, image, reduced=False),
        },
        "Tags": _tags(),
    }


def reduced_job_request(
    settings: LaunchSettings, image: str, seed: int, hyperparameters: dict[str, str]
) -> dict[str, Any]:
    """CreateTrainingJob for the reduced model: the best tuning job's hyper-parameters on the features
    the best model splits on (the reduced channels)."""
    return {
        "TrainingJobName": settings.reduced_job_name,
        "HyperParameters": {**static_hyperparameters(seed), **hyperparameters},
        **_common_job_parts(settings, image, reduced=True),
        "Tags": _tags(),
    }
