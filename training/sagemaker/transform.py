"""Scoring rows with a batch transform job, for tables too large to score here or whose rows stay in Aurora.

The job reads CSVs in the channels' form (label first), passes every column but the label to the
model (InputFilter `$[1:]`), joins the prediction to its input row (JoinSource `Input`) and keeps the
label and the prediction (OutputFilter `$[0,-1]`): what comes back is two numbers per customer,
never the table. The SageMaker model the job needs is deleted afterwards.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Any

import numpy as np

from churnguard.constants import PROJECT_TAGS
from training.progress import Progress
from training.sagemaker.jobs import LaunchSettings
from training.sagemaker.wait import TRANSFORM_JOB, wait_for_job

SCORED_PARTS = ("validation", "test")
DEFAULT_TRANSFORM_INSTANCE_TYPE = "ml.m5.xlarge"


def score_folder(reduced: bool) -> str:
    return "reduced-score" if reduced else "score"


@dataclass(frozen=True)
class LabelledScores:
    """What a transform job sends back for one part: each row's label and score, in the rows' order."""

    churn: np.ndarray
    scores: np.ndarray


def transform_requests(
    settings: LaunchSettings, image: str, model_data_url: str, *, name: str, input_uri: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    """CreateModel and CreateTransformJob: the model at the URL scores every object under `input_uri`."""
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
            "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": input_uri}},
            "ContentType": "text/csv",
            "SplitType": "Line",
        },
        "TransformOutput": output,
        "TransformResources": resources,
        "DataProcessing": {"InputFilter": "$[1:]", "JoinSource": "Input", "OutputFilter": "$[0,-1]"},
        "Tags": tags,
    }
    return model, job


def read_labelled_scores(bodies: list[bytes], source: str) -> LabelledScores:
    """The `label,prediction` lines of a part's output objects, in order."""
    rows = [row for body in bodies for row in csv.reader(io.StringIO(body.decode("utf-8"))) if row]
    if any(len(row) != 2 for row in rows):
        raise ValueError(f"{source}: a line without exactly a label and a prediction")
    values = np.array([[float(cell) for cell in row] for row in rows], dtype=np.float64).reshape(len(rows), 2)
    return LabelledScores(values[:, 0].astype(np.int64), values[:, 1])


def score_with_batch_transform(
    sagemaker: Any,
    s3: Any,
    settings: LaunchSettings,
    image: str,
    model_data_url: str,
    progress: Progress,
    *,
    name: str,
    input_uri: str,
    parts: tuple[str, ...],
    **wait_options: Any,
) -> dict[str, LabelledScores]:
    """Labels and scores per part from one batch transform job over `input_uri`.

    A part is read from the output objects whose names start with "<part>." (the input files
    `validation.csv`, `validation.part_00000`, ... give `validation.csv.out`, ...), in name order;
    the part "" reads every output object.
    """
    model, job = transform_requests(settings, image, model_data_url, name=name, input_uri=input_uri)
    sagemaker.create_model(**model)
    try:
        sagemaker.create_transform_job(**job)
        wait_for_job(sagemaker, TRANSFORM_JOB, job["TransformJobName"], progress, **wait_options)
    finally:
        sagemaker.delete_model(ModelName=model["ModelName"])
    output = job["TransformOutput"]["S3OutputPath"].removeprefix(f"s3://{settings.bucket}/")
    keys = sorted(
        item["Key"]
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=settings.bucket, Prefix=output)
        for item in page.get("Contents", [])
    )
    scores = {}
    for part in parts:
        chosen = [key for key in keys if key.rsplit("/", 1)[-1].startswith(f"{part}." if part else "")]
        bodies = [s3.get_object(Bucket=settings.bucket, Key=key)["Body"].read() for key in chosen]
        scores[part] = read_labelled_scores(bodies, f"s3://{settings.bucket}/{output}{part}*")
    return scores
