"""The SageMaker launcher, offline: what it uploads (moto S3) and the job requests it sends (Stubber)."""

from __future__ import annotations

from typing import Any

import boto3
import numpy as np
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from churnguard.constants import NAME_PREFIX, PROJECT_TAGS
from churnguard.errors import UserError
from training.sagemaker_jobs import LaunchSettings, launch, training_image
from training.search import HYPERPARAMETER_RANGES
from training.synthetic import generate_customers

REGION = "eu-west-1"
BUCKET = "churnguard-data-123456789012"
ROLE = "arn:aws:iam::123456789012:role/churnguard-training"
IMAGE = training_image(REGION)
ARN_PREFIX = f"arn:aws:sagemaker:{REGION}:123456789012"


class SessionWithStubbedSageMaker:
    """A boto3 session whose S3 client is moto's and whose SageMaker client answers through a Stubber."""

    def __init__(self) -> None:
        self._session = boto3.session.Session(
            aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION
        )
        self.sagemaker = self._session.client("sagemaker", region_name=REGION)
        self.stubber = Stubber(self.sagemaker)
        self.requests: dict[str, dict[str, Any]] = {}
        for operation, response in (
            (
                "create_training_job",
                {"TrainingJobArn": "arn:aws:sagemaker:eu-west-1:123456789012:training-job/x"},
            ),
            (
                "create_hyper_parameter_tuning_job",
                {"HyperParameterTuningJobArn": f"{ARN_PREFIX}:hyper-parameter-tuning-job/x"},
            ),
        ):
            self.stubber.add_response(operation, response)
        self.sagemaker.meta.events.register("provide-client-params.sagemaker.*", self._record)
        self.stubber.activate()

    def _record(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        self.requests[model.name] = params

    def client(self, service: str, region_name: str | None = None) -> Any:
        return (
            self.sagemaker
            if service == "sagemaker"
            else self._session.client(service, region_name=region_name)
        )


def settings(**overrides: Any) -> LaunchSettings:
    values: dict[str, Any] = {
        "bucket": BUCKET,
        "role_arn": ROLE,
        "region": REGION,
        "run_name": f"{NAME_PREFIX}-261123-101500",
        **overrides,
    }
    return LaunchSettings(**values)


@pytest.fixture()
def launched() -> tuple[SessionWithStubbedSageMaker, Any, Any]:
    with mock_aws():
        session = SessionWithStubbedSageMaker()
        s3 = session.client("s3", region_name=REGION)
        s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
        result = launch(generate_customers(600, seed=3), settings(), seed=3, session=session, image=IMAGE)  # type: ignore[arg-type]
        objects = {
            item["Key"]: s3.get_object(Bucket=BUCKET, Key=item["Key"])
            for item in s3.list_objects_v2(Bucket=BUCKET)["Contents"]
        }
        session.stubber.assert_no_pending_responses()
        yield session, result, objects


def test_prepared_csvs_are_uploaded_encrypted_under_the_model_prefix(launched: Any) -> None:
    _, result, objects = launched
    prefix = f"model/{NAME_PREFIX}-261123-101500/data/"
    assert sorted(objects) == [prefix + "feature_spec.json", prefix + "train.csv", prefix + "validation.csv"]
    assert all(item["ServerSideEncryption"] == "AES256" for item in objects.values())
    train_rows = np.loadtxt(objects[prefix + "train.csv"]["Body"].read().decode().splitlines(), delimiter=",")
    assert train_rows.shape[0] == 420  # 70% of 600, label first
    assert set(np.unique(train_rows[:, 0])) == {0.0, 1.0}
    assert result.data_uris["train.csv"] == f"s3://{BUCKET}/{prefix}train.csv"


def test_the_training_job_uses_the_pinned_builtin_image_and_project_names(launched: Any) -> None:
    session, result, _ = launched
    request = session.requests["CreateTrainingJob"]
    assert request["TrainingJobName"] == result.training_job_name
    assert request["TrainingJobName"].startswith(NAME_PREFIX)
    assert request["AlgorithmSpecification"]["TrainingImage"] == IMAGE
    assert IMAGE.endswith("/sagemaker-xgboost:3.0-5")
    assert request["HyperParameters"]["objective"] == "binary:logistic"
    assert request["HyperParameters"]["eval_metric"] == "auc"
    # The reference notebook's fixed hyper-parameters, the local search's first trial, as the baseline.
    assert {
        name: request["HyperParameters"][name] for name in ("eta", "max_depth", "gamma", "subsample")
    } == {
        "eta": "0.2",
        "max_depth": "5",
        "gamma": "4.0",
        "subsample": "0.8",
    }
    assert request["HyperParameters"]["num_round"] == "100"
    assert request["RoleArn"] == ROLE
    assert (
        request["OutputDataConfig"]["S3OutputPath"]
        == f"s3://{BUCKET}/model/{NAME_PREFIX}-261123-101500/output/"
    )
    assert {tag["Key"]: tag["Value"] for tag in request["Tags"]} == PROJECT_TAGS
    assert request["EnableNetworkIsolation"] is True
    assert request["EnableInterContainerTrafficEncryption"] is True
    channels = {channel["ChannelName"]: channel for channel in request["InputDataConfig"]}
    assert set(channels) == {"train", "validation"}
    assert all(channel["ContentType"] == "text/csv" for channel in channels.values())


def test_the_tuning_job_searches_the_local_ranges_for_validation_auc(launched: Any) -> None:
    session, result, _ = launched
    request = session.requests["CreateHyperParameterTuningJob"]
    name = request["HyperParameterTuningJobName"]
    assert name == result.tuning_job_name and name.startswith(NAME_PREFIX) and len(name) <= 32
    config = request["HyperParameterTuningJobConfig"]
    assert config["HyperParameterTuningJobObjective"] == {"Type": "Maximize", "MetricName": "validation:auc"}
    ranges = config["ParameterRanges"]
    sent = {
        item["Name"]: (float(item["MinValue"]), float(item["MaxValue"]))
        for item in ranges["ContinuousParameterRanges"] + ranges["IntegerParameterRanges"]
    }
    assert sent == {name: (float(low), float(high)) for name, (low, high, _) in HYPERPARAMETER_RANGES.items()}
    assert {item["Name"] for item in ranges["IntegerParameterRanges"]} == {"max_depth", "num_round"}
    assert {item["Name"] for item in ranges["ContinuousParameterRanges"]} == {
        "eta",
        "min_child_weight",
        "alpha",
        "gamma",
        "lambda",
    }
    definition = request["TrainingJobDefinition"]
    assert definition["AlgorithmSpecification"]["TrainingImage"] == IMAGE
    assert definition["StaticHyperParameters"]["objective"] == "binary:logistic"
    assert definition["OutputDataConfig"]["S3OutputPath"].startswith(f"s3://{BUCKET}/model/")
    assert {tag["Key"]: tag["Value"] for tag in request["Tags"]} == PROJECT_TAGS


def test_a_kms_key_encrypts_outputs_and_volumes() -> None:
    from training.sagemaker_jobs import tuning_job_request

    key = "arn:aws:kms:eu-west-1:123456789012:key/abcd"
    definition = tuning_job_request(settings(kms_key_id=key), IMAGE, seed=1)["TrainingJobDefinition"]
    assert definition["OutputDataConfig"]["KmsKeyId"] == key
    assert definition["ResourceConfig"]["VolumeKmsKeyId"] == key


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"bucket": "Not_A_Bucket"}, "--bucket"),
        ({"role_arn": "admin"}, "--role-arn"),
        ({"max_jobs": 1, "max_parallel_jobs": 2}, "parallel"),
        ({"max_jobs": 1, "max_parallel_jobs": 2}, r"got 2 parallel and 1 jobs \(--trials with --sagemaker"),
    ],
)
def test_bad_launch_settings_are_user_errors(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(UserError, match=message):
        settings(**overrides)
