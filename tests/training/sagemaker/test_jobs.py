"""The SageMaker job requests: names, tags, image, ranges, channels, encryption and distributed settings."""

from __future__ import annotations

import io
import json
from typing import Any

import numpy as np
import pytest

from churnguard.constants import NAME_PREFIX, PROJECT_TAGS
from churnguard.errors import UserError
from tests.training.sagemaker.sagemaker_service import BUCKET, IMAGE, KEY, ROLE, TUNED, settings
from training.features import build_feature_spec, labels
from training.sagemaker.jobs import (
    TRAIN,
    VALIDATION,
    channel_files,
    feature_spec_file,
    reduced_job_request,
    tuning_job_request,
)
from training.search import HYPERPARAMETER_RANGES, MOST_ROUNDS
from training.split import split_customers
from training.synthetic import generate_customers


def test_the_tuning_job_searches_the_local_ranges_with_eta_from_the_local_floor() -> None:
    request = tuning_job_request(settings(), IMAGE, seed=3)
    name = request["HyperParameterTuningJobName"]
    assert name.startswith(NAME_PREFIX) and name.endswith("-hpo") and len(name) <= 32
    config = request["HyperParameterTuningJobConfig"]
    assert config["HyperParameterTuningJobObjective"] == {"Type": "Maximize", "MetricName": "validation:auc"}
    assert config["ResourceLimits"] == {"MaxNumberOfTrainingJobs": 20, "MaxParallelTrainingJobs": 2}
    ranges = config["ParameterRanges"]
    sent = {
        item["Name"]: (float(item["MinValue"]), float(item["MaxValue"]))
        for item in ranges["ContinuousParameterRanges"] + ranges["IntegerParameterRanges"]
    }
    expected = {name: (float(low), float(high)) for name, (low, high, _) in HYPERPARAMETER_RANGES.items()}
    assert sent == expected
    # The slow end, as locally: learning rates 0.01-0.3 searched on a log scale.
    assert sent["eta"] == (0.01, 0.3)
    scaling = {item["Name"]: item["ScalingType"] for item in ranges["ContinuousParameterRanges"]}
    assert scaling["eta"] == "Logarithmic" and scaling["gamma"] == "Auto"
    assert {item["Name"] for item in ranges["IntegerParameterRanges"]} == {"max_depth"}
    definition = request["TrainingJobDefinition"]
    # The rounds are not tuned: every job may train MOST_ROUNDS and stops early, as patient as eta 0.01;
    # every job samples 80% of the rows per tree, as every local trial does.
    assert definition["StaticHyperParameters"] == {
        "objective": "binary:logistic",
        "eval_metric": "auc",
        "subsample": "0.8",
        "num_round": str(MOST_ROUNDS),
        "early_stopping_rounds": "25",
        "seed": "3",
    }
    assert definition["AlgorithmSpecification"] == {"TrainingImage": IMAGE, "TrainingInputMode": "File"}
    assert IMAGE.endswith("/sagemaker-xgboost:3.0-5")
    assert definition["RoleArn"] == ROLE
    assert definition["EnableNetworkIsolation"] is True
    assert definition["EnableInterContainerTrafficEncryption"] is True
    assert {tag["Key"]: tag["Value"] for tag in request["Tags"]} == PROJECT_TAGS


def test_channels_read_the_run_staging_prefix_and_outputs_go_under_the_model_prefix() -> None:
    definition = tuning_job_request(settings(), IMAGE, seed=3)["TrainingJobDefinition"]
    run = f"model/{NAME_PREFIX}-261126-120000/"
    channels = {c["ChannelName"]: c["DataSource"]["S3DataSource"] for c in definition["InputDataConfig"]}
    assert channels == {
        TRAIN: {
            "S3DataType": "S3Prefix",
            "S3Uri": f"s3://{BUCKET}/{run}staging/train/",
            "S3DataDistributionType": "FullyReplicated",
        },
        VALIDATION: {
            "S3DataType": "S3Prefix",
            "S3Uri": f"s3://{BUCKET}/{run}staging/validation/",
            "S3DataDistributionType": "FullyReplicated",
        },
    }
    assert all(c["ContentType"] == "text/csv" for c in definition["InputDataConfig"])
    assert definition["OutputDataConfig"] == {"S3OutputPath": f"s3://{BUCKET}/{run}output/", "KmsKeyId": KEY}
    assert definition["ResourceConfig"]["VolumeKmsKeyId"] == KEY


def test_without_a_key_nothing_asks_for_kms() -> None:
    definition = tuning_job_request(settings(kms_key_id=None), IMAGE, seed=1)["TrainingJobDefinition"]
    assert "KmsKeyId" not in definition["OutputDataConfig"]
    assert "VolumeKmsKeyId" not in definition["ResourceConfig"]


def test_distributed_training_shards_the_train_channel_only() -> None:
    launch = settings(instance_count=3, instance_type="ml.m5.2xlarge")
    definition = tuning_job_request(launch, IMAGE, seed=1)["TrainingJobDefinition"]
    assert definition["ResourceConfig"]["InstanceCount"] == 3
    assert definition["ResourceConfig"]["InstanceType"] == "ml.m5.2xlarge"
    distribution = {
        c["ChannelName"]: c["DataSource"]["S3DataSource"]["S3DataDistributionType"]
        for c in definition["InputDataConfig"]
    }
    assert distribution == {TRAIN: "ShardedByS3Key", VALIDATION: "FullyReplicated"}


def test_train_rows_are_cut_into_one_file_per_instance_and_keep_every_row() -> None:
    customers = generate_customers(400, seed=2)
    parts = split_customers(customers, "project", 2)
    spec = build_feature_spec(customers)
    files = channel_files(customers, spec, {TRAIN: parts.train, VALIDATION: parts.validation}, shards=3)
    assert sorted(files) == [
        "train/part-00000.csv",
        "train/part-00001.csv",
        "train/part-00002.csv",
        "validation/part-00000.csv",
    ]
    shards = [np.loadtxt(io.BytesIO(files[f"train/part-0000{n}.csv"]), delimiter=",") for n in range(3)]
    train = np.vstack(shards)
    assert train.shape == (len(parts.train), 1 + len(spec.names))
    assert np.array_equal(train[:, 0], labels(customers)[parts.train])
    assert max(len(s) for s in shards) - min(len(s) for s in shards) <= 1
    assert json.loads(feature_spec_file(spec))["features"] == spec.names


def test_the_reduced_job_uses_the_tuned_hyperparameters_on_the_reduced_channels() -> None:
    request = reduced_job_request(settings(), IMAGE, 9, dict(TUNED))
    assert request["TrainingJobName"] == f"{NAME_PREFIX}-261126-120000-reduced"
    assert request["HyperParameters"] == {
        "objective": "binary:logistic",
        "eval_metric": "auc",
        "subsample": "0.8",
        "num_round": str(MOST_ROUNDS),
        "early_stopping_rounds": "25",
        "seed": "9",
        **TUNED,
    }
    uris = [c["DataSource"]["S3DataSource"]["S3Uri"] for c in request["InputDataConfig"]]
    assert [uri.rsplit("/", 2)[1] for uri in uris] == ["reduced-train", "reduced-validation"]
    assert {tag["Key"]: tag["Value"] for tag in request["Tags"]} == PROJECT_TAGS


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"bucket": "Not_A_Bucket"}, "--bucket"),
        ({"role_arn": "admin"}, "--role-arn"),
        ({"max_jobs": 1, "max_parallel_jobs": 2}, r"got 2 parallel and 1 jobs \(--trials with --sagemaker"),
        ({"instance_count": 0}, "--instance-count must be at least 1"),
    ],
)
def test_bad_launch_settings_are_user_errors(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(UserError, match=message):
        settings(**overrides)
