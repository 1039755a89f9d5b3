"""A stand-in for SageMaker at the boto3 boundary, for the tests of `churnguard train --sagemaker`.

The SageMaker client answers through botocore's Stubber with responses shaped like the service's
(job states, BestTrainingJob, ModelArtifacts.S3ModelArtifacts, FailureReason); S3 is moto's. When the
launcher creates a job, a hook does what the built-in container would: reads the job's CSV channels
from S3, trains a real xgboost model (early-stopped on the validation channel) and writes
`<output>/<job>/output/model.tar.gz` with the member `xgboost-model`; a batch transform job writes
`label,prediction` lines, as InputFilter/JoinSource/OutputFilter would.
"""

from __future__ import annotations

import io
import tarfile
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlparse

import boto3
import numpy as np
import xgboost as xgb
from botocore.stub import Stubber

from churnguard.constants import NAME_PREFIX
from training.sagemaker.jobs import LaunchSettings, training_image

REGION = "eu-west-1"
ACCOUNT = "123456789012"
BUCKET = f"churnguard-dev-data-{ACCOUNT}"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/churnguard-dev-TrainingRole"
KEY = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/0a1b2c3d-0000-4000-8000-000000000000"
ARN = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}"
IMAGE = training_image(REGION)
RUN_NAME = f"{NAME_PREFIX}-261126-120000"
CREATED = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
# What the tuner "found": a point of every searched range (num_round is static: early stopping decides).
TUNED = {
    "alpha": "0.1",
    "eta": "0.3",
    "gamma": "0.5",
    "lambda": "1.0",
    "max_depth": "3",
    "min_child_weight": "2.0",
}


def settings(**overrides: Any) -> LaunchSettings:
    values: dict[str, Any] = {
        "bucket": BUCKET,
        "role_arn": ROLE,
        "region": REGION,
        "run_name": RUN_NAME,
        "kms_key_id": KEY,
        **overrides,
    }
    return LaunchSettings(**values)


def best_job_name(launch: LaunchSettings) -> str:
    return f"{launch.tuning_job_name}-007-1a2b3c4d"


def _split(uri: str) -> tuple[str, str]:
    parsed = urlparse(uri)
    return parsed.netloc, parsed.path.lstrip("/")


def read_csv_prefix(s3: Any, uri: str) -> np.ndarray:
    bucket, prefix = _split(uri)
    parts = []
    for item in s3.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", []):
        text = s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read().decode()
        parts.append(np.loadtxt(io.StringIO(text), delimiter=",", ndmin=2))
    return np.vstack(parts)


def model_tarball(booster: xgb.Booster) -> bytes:
    """As the container saves it: `xgboost-model` in a gzipped tar (binary UBJSON here, not our JSON)."""
    body = bytes(booster.save_raw(raw_format="ubj"))
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        member = tarfile.TarInfo("xgboost-model")
        member.size = len(body)
        archive.addfile(member, io.BytesIO(body))
    return buffer.getvalue()


def train_like_the_container(
    s3: Any, channels: list[dict[str, Any]], hyperparameters: dict[str, str]
) -> bytes:
    data = {
        channel["ChannelName"]: read_csv_prefix(s3, channel["DataSource"]["S3DataSource"]["S3Uri"])
        for channel in channels
    }
    train = xgb.DMatrix(data["train"][:, 1:], label=data["train"][:, 0])
    validation = xgb.DMatrix(data["validation"][:, 1:], label=data["validation"][:, 0])
    params: dict[str, Any] = {
        "objective": hyperparameters["objective"],
        "eval_metric": hyperparameters["eval_metric"],
        "seed": int(hyperparameters["seed"]),
        "tree_method": "hist",
        "nthread": 1,
        **{
            name: float(hyperparameters[name])
            for name in ("alpha", "eta", "gamma", "lambda", "min_child_weight", "subsample")
        },
        "max_depth": int(hyperparameters["max_depth"]),
    }
    booster = xgb.train(
        params,
        train,
        num_boost_round=int(hyperparameters["num_round"]),
        evals=[(validation, "validation")],
        early_stopping_rounds=int(hyperparameters["early_stopping_rounds"]),
        verbose_eval=False,
    )
    return model_tarball(booster)


def tuning_description(
    launch: LaunchSettings, status: str, *, completed: int, best: bool, failure: str | None = None
) -> dict[str, Any]:
    name = launch.tuning_job_name
    description: dict[str, Any] = {
        "HyperParameterTuningJobName": name,
        "HyperParameterTuningJobArn": f"{ARN}:hyper-parameter-tuning-job/{name}",
        "HyperParameterTuningJobConfig": {
            "Strategy": "Bayesian",
            "ResourceLimits": {"MaxNumberOfTrainingJobs": launch.max_jobs, "MaxParallelTrainingJobs": 2},
        },
        "HyperParameterTuningJobStatus": status,
        "CreationTime": CREATED,
        "TrainingJobStatusCounters": {
            "Completed": completed,
            "InProgress": 0 if status != "InProgress" else 2,
            "RetryableError": 0,
            "NonRetryableError": 0,
            "Stopped": 0,
        },
        "ObjectiveStatusCounters": {"Succeeded": completed, "Pending": 0, "Failed": 0},
    }
    if best:
        description["BestTrainingJob"] = {
            "TrainingJobName": best_job_name(launch),
            "TrainingJobArn": f"{ARN}:training-job/{best_job_name(launch)}",
            "CreationTime": CREATED,
            "TrainingJobStatus": "Completed",
            "TunedHyperParameters": dict(TUNED),
            "FinalHyperParameterTuningJobObjectiveMetric": {"MetricName": "validation:auc", "Value": 0.9125},
        }
    if failure:
        description["FailureReason"] = failure
    return description


def artifact_uri(launch: LaunchSettings, job: str) -> str:
    return f"{launch.output_uri}{job}/output/model.tar.gz"


def training_description(
    launch: LaunchSettings, job: str, status: str, *, failure: str | None = None
) -> dict[str, Any]:
    description: dict[str, Any] = {
        "TrainingJobName": job,
        "TrainingJobArn": f"{ARN}:training-job/{job}",
        "ModelArtifacts": {"S3ModelArtifacts": artifact_uri(launch, job) if status == "Completed" else ""},
        "TrainingJobStatus": status,
        "SecondaryStatus": {"InProgress": "Training", "Completed": "Completed"}.get(status, status),
        "AlgorithmSpecification": {"TrainingImage": IMAGE, "TrainingInputMode": "File"},
        "ResourceConfig": {"InstanceType": launch.instance_type, "InstanceCount": 1, "VolumeSizeInGB": 10},
        "StoppingCondition": {"MaxRuntimeInSeconds": 3600},
        "CreationTime": CREATED,
    }
    if failure:
        description["FailureReason"] = failure
    return description


def transform_description(name: str, status: str) -> dict[str, Any]:
    return {
        "TransformJobName": name,
        "TransformJobArn": f"{ARN}:transform-job/{name}",
        "TransformJobStatus": status,
        "ModelName": name,
        "TransformInput": {"DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": "s3://x/y"}}},
        "TransformResources": {"InstanceType": "ml.m5.xlarge", "InstanceCount": 1},
        "CreationTime": CREATED,
    }


class StubbedSageMaker:
    """The sagemaker client (Stubber) plus moto's S3, with hooks that run the jobs for real."""

    def __init__(self, launch: LaunchSettings) -> None:
        session = boto3.session.Session(
            aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION
        )
        self.launch = launch
        self.s3 = session.client("s3", region_name=REGION)
        self.s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
        self.sagemaker = session.client("sagemaker", region_name=REGION)
        self.requests: dict[str, list[dict[str, Any]]] = {}
        events = self.sagemaker.meta.events
        events.register("provide-client-params.sagemaker.*", self._record)
        events.register("provide-client-params.sagemaker.CreateHyperParameterTuningJob", self._run_tuning)
        events.register("provide-client-params.sagemaker.CreateTrainingJob", self._run_training)
        events.register("provide-client-params.sagemaker.CreateTransformJob", self._run_transform)
        self.stubber = Stubber(self.sagemaker)
        self.stubber.activate()

    def _record(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        self.requests.setdefault(model.name, []).append(params)

    def _put(self, uri: str, body: bytes) -> None:
        bucket, key = _split(uri)
        self.s3.put_object(Bucket=bucket, Key=key, Body=body)

    def _run_tuning(self, params: dict[str, Any], **_: Any) -> None:
        definition = params["TrainingJobDefinition"]
        hyperparameters = {**definition["StaticHyperParameters"], **TUNED}
        body = train_like_the_container(self.s3, definition["InputDataConfig"], hyperparameters)
        self._put(artifact_uri(self.launch, best_job_name(self.launch)), body)

    def _run_training(self, params: dict[str, Any], **_: Any) -> None:
        body = train_like_the_container(self.s3, params["InputDataConfig"], params["HyperParameters"])
        self._put(artifact_uri(self.launch, params["TrainingJobName"]), body)

    def _run_transform(self, params: dict[str, Any], **_: Any) -> None:
        (model,) = [m for m in self.requests["CreateModel"] if m["ModelName"] == params["ModelName"]]
        bucket, key = _split(model["PrimaryContainer"]["ModelDataUrl"])
        with tarfile.open(
            fileobj=io.BytesIO(self.s3.get_object(Bucket=bucket, Key=key)["Body"].read())
        ) as tar:
            member = tar.extractfile("xgboost-model")
            assert member is not None
            booster = xgb.Booster()
            booster.load_model(bytearray(member.read()))
        source = params["TransformInput"]["DataSource"]["S3DataSource"]["S3Uri"]
        bucket, prefix = _split(source)
        for item in self.s3.list_objects_v2(Bucket=bucket, Prefix=prefix)["Contents"]:
            rows = read_csv_prefix(self.s3, f"s3://{bucket}/{item['Key']}")
            scores = booster.predict(xgb.DMatrix(rows[:, 1:]), validate_features=False)
            lines = "".join(
                f"{label:g},{score!r}\n" for label, score in zip(rows[:, 0], scores.tolist(), strict=True)
            )
            name = item["Key"].rsplit("/", 1)[-1]
            self._put(f"{params['TransformOutput']['S3OutputPath']}{name}.out", lines.encode())

    def respond(self, operation: str, response: dict[str, Any], **expected: Any) -> None:
        self.stubber.add_response(operation, response, expected or None)

    def fail(self, operation: str, code: str, message: str) -> None:
        self.stubber.add_client_error(operation, service_error_code=code, service_message=message)

    def queue_successful_run(self, *, batch_transform: bool = False, train_scores: bool = False) -> None:
        """A run's answers; `train_scores`: the chosen model's train rows scored too (rows not here)."""
        launch = self.launch
        tuning_name, best, reduced = launch.tuning_job_name, best_job_name(launch), launch.reduced_job_name
        self.respond(
            "create_hyper_parameter_tuning_job",
            {"HyperParameterTuningJobArn": f"{ARN}:hyper-parameter-tuning-job/{tuning_name}"},
        )
        for status, completed, has_best in (
            ("InProgress", 0, False),
            ("InProgress", 3, True),
            ("Completed", 20, True),
        ):
            self.respond(
                "describe_hyper_parameter_tuning_job",
                tuning_description(launch, status, completed=completed, best=has_best),
                HyperParameterTuningJobName=tuning_name,
            )
        self.respond(
            "describe_training_job", training_description(launch, best, "Completed"), TrainingJobName=best
        )
        self.respond("create_training_job", {"TrainingJobArn": f"{ARN}:training-job/{reduced}"})
        for status in ("InProgress", "Completed"):
            self.respond(
                "describe_training_job",
                training_description(launch, reduced, status),
                TrainingJobName=reduced,
            )
        if batch_transform:
            for which in ("full", "reduced"):
                self.queue_transform(f"{launch.run_name}-{which}-score")
        if train_scores:
            self.queue_transform(f"{launch.run_name}-train-score")

    def queue_transform(self, name: str) -> None:
        self.respond("create_model", {"ModelArn": f"{ARN}:model/{name}"})
        self.respond("create_transform_job", {"TransformJobArn": f"{ARN}:transform-job/{name}"})
        for status in ("InProgress", "Completed"):
            self.respond("describe_transform_job", transform_description(name, status), TransformJobName=name)
        self.respond("delete_model", {}, ModelName=name)

    def objects(self) -> list[str]:
        return [item["Key"] for item in self.s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])]
