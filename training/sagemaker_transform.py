"""Scoring the validation and test rows with a batch transform job, for tables too large to score here.

The job reads the run's `score` CSVs (label first, as the training channels), passes every column but
the label to the model (InputFilter `$[1:]`), joins the prediction to its input row (JoinSource
`Input`) and keeps the label and the prediction (OutputFilter `$[0,-1]`): what comes back is two
numbers per customer, never the table. The SageMaker model the job needs is deleted afterwards.
"""

from __future__ import annotations

import csv
import io
from typing import Any

import numpy as np

from churnguard.constants import PROJECT_TAGS
from training.progress import Progress
from training.sagemaker_jobs import LaunchSettings
from training.sagemaker_wait import TRANSFORM_JOB, wait_for_job

SCORE_FILES = ("validation.csv", "test.csv")
DEFAULT_TRANSFORM_INSTANCE_TYPE = "ml.m5.xlarge"


def score_folder(reduced: bool) -> str:
    return "reduced-score" if reduced else "score"


def transform_requests(
    settings: LaunchSettings, image: str, model_data_url: str, *, reduced: bool
) -> tuple[dict[str, Any], dict[str, Any]]:
    """CreateModel and CreateTransformJob for one model over its score folder."""
    name = f"{settings.run_name}-{'reduced' if reduced else 'full'}-score"
    tags = [{"Key": key, "Value": value} for key, value in PROJECT_TAGS.items()]
    model = {
        "ModelName": name,
        "PrimaryContainer": {"Image": image, "ModelDataUrl": model_data_url},
        "ExecutionRoleArn": settings.role_arn,
        "EnableNetworkIsolation": True,
        "Tags": tags,
    }
    output: dict[str, Any] = {
        "S3OutputPath": f"s3://{settings.bucket}/{settings.run_prefix}output/{name}/",
        "Accept": "text/csv",
        "AssembleWith": "Line",
    }
    resources: dict[str, Any] = {"InstanceType": DEFAULT_TRANSFORM_INSTANCE_TYPE, "InstanceCount": 1}
    if settings.kms_key_id:
        output["KmsKeyId"] = settings.kms_key_id
        resources["VolumeKmsKeyId"] = settings.kms_key_id
    job = {
        "TransformJobName": name,
        "ModelName": name,
        "TransformInput": {
            "DataSource": {
                "S3DataSource": {
                    "S3DataType": "S3Prefix",
                    "S3Uri": f"s3://{settings.bucket}/{settings.staging_prefix}{score_folder(reduced)}/",
                }
            },
            "ContentType": "text/csv",
            "SplitType": "Line",
        },
        "TransformOutput": output,
        "TransformResources": resources,
        "DataProcessing": {"InputFilter": "$[1:]", "JoinSource": "Input", "OutputFilter": "$[0,-1]"},
        "Tags": tags,
    }
    return model, job


def read_predictions(body: bytes, expected_labels: np.ndarray, source: str) -> np.ndarray:
    """The prediction column of `label,prediction` lines, checked against the labels sent, in order."""
    rows = [row for row in csv.reader(io.StringIO(body.decode("utf-8"))) if row]
    if len(rows) != len(expected_labels):
        raise ValueError(f"{source}: {len(rows)} predictions for {len(expected_labels)} rows sent")
    values = np.array([[float(cell) for cell in row] for row in rows])
    if values.shape[1] != 2 or not np.array_equal(values[:, 0], expected_labels):
        raise ValueError(f"{source}: the labels that came back are not the rows sent, in their order")
    return values[:, 1]


def score_with_batch_transform(
    sagemaker: Any,
    s3: Any,
    settings: LaunchSettings,
    image: str,
    model_data_url: str,
    expected_labels: dict[str, np.ndarray],
    progress: Progress,
    *,
    reduced: bool,
    **wait_options: Any,
) -> dict[str, np.ndarray]:
    """{"validation": scores, "test": scores} from one batch transform job of the model at the URL."""
    model, job = transform_requests(settings, image, model_data_url, reduced=reduced)
    sagemaker.create_model(**model)
    try:
        sagemaker.create_transform_job(**job)
        wait_for_job(sagemaker, TRANSFORM_JOB, job["TransformJobName"], progress, **wait_options)
    finally:
        sagemaker.delete_model(ModelName=model["ModelName"])
    output = job["TransformOutput"]["S3OutputPath"].removeprefix(f"s3://{settings.bucket}/")
    scores = {}
    for file in SCORE_FILES:
        key = f"{output}{file}.out"
        body = s3.get_object(Bucket=settings.bucket, Key=key)["Body"].read()
        part = file.removesuffix(".csv")
        scores[part] = read_predictions(body, expected_labels[part], f"s3://{settings.bucket}/{key}")
    return scores
