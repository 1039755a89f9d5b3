"""The run's objects in S3: uploading the prepared CSVs, exporting the Aurora table, removing it all.

Every object a run writes sits under one of two prefixes named after the run: the staging and output
folders under `model/<run>/` (the training role's prefix) and, for a table export, `tmp/<run>/`
(the Aurora role's scratch prefix, which the bucket also expires after 7 days). `remove_prefix`
empties them when the run ends; `churnguard teardown` finds what a dead run left (leftovers.py,
TrainingStagingFinder).
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import pandas as pd

from churnguard.sql_client import SqlClient
from churnguard.sqlgen.file_locations import template_with_location
from training.data import load_exported_customers
from training.sagemaker_jobs import LaunchSettings

# infra/data_bucket.py TMP_PREFIX: the one prefix both Aurora's S3 role and a 7-day expiry cover.
EXPORT_PREFIX = "tmp/"
EXPORT_TEMPLATE = "export_customers.aurora.sql"


def encryption(settings: LaunchSettings) -> dict[str, str]:
    """SSE-KMS with the training key when there is one, else S3-managed keys (the bucket's default)."""
    if settings.kms_key_id:
        return {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": settings.kms_key_id}
    return {"ServerSideEncryption": "AES256"}


def upload(s3: Any, settings: LaunchSettings, files: dict[str, bytes]) -> list[str]:
    """Put each file under the run's staging prefix; their s3:// URIs."""
    uris = []
    for name, body in files.items():
        key = f"{settings.staging_prefix}{name}"
        s3.put_object(Bucket=settings.bucket, Key=key, Body=body, **encryption(settings))
        uris.append(f"s3://{settings.bucket}/{key}")
    return uris


def remove_prefix(s3: Any, bucket: str, prefix: str) -> int:
    """Delete every object under `prefix`; how many. Errors S3 reports per object are raised."""
    removed = 0
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        keys = [{"Key": item["Key"]} for item in page.get("Contents", [])]
        if not keys:
            continue
        answer = s3.delete_objects(Bucket=bucket, Delete={"Objects": keys, "Quiet": True})
        if answer.get("Errors"):
            first = answer["Errors"][0]
            raise RuntimeError(f"could not remove s3://{bucket}/{first.get('Key')}: {first.get('Code')}")
        removed += len(keys)
    return removed


def export_prefix(settings: LaunchSettings) -> str:
    return f"{EXPORT_PREFIX}{settings.run_name}/"


def export_table(client: SqlClient, s3: Any, settings: LaunchSettings) -> pd.DataFrame:
    """SELECT ... INTO OUTFILE S3 through `client` (the Data API), then the parts read back and validated.

    The location is embedded as a checked literal (churnguard.sqlgen.file_locations): Aurora takes no
    bound parameter there. The parts are removed by the caller with the rest of the run's objects.
    """
    prefix = export_prefix(settings)
    client.execute(
        template_with_location(EXPORT_TEMPLATE, "s3_uri", f"s3://{settings.bucket}/{prefix}customers")
    )
    with tempfile.TemporaryDirectory(prefix="churnguard-export-") as folder:
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=settings.bucket, Prefix=prefix):
            for item in page.get("Contents", []):
                body = s3.get_object(Bucket=settings.bucket, Key=item["Key"])["Body"].read()
                (Path(folder) / Path(item["Key"]).name).write_bytes(body)
        return load_exported_customers(folder)
