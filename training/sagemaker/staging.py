"""The run's objects in S3: uploading the prepared CSVs and removing everything the run wrote.

Every object a run writes sits under one of two prefixes named after the run: the staging and output
folders under `model/<run>/` (the training role's prefix) and, when the rows stay in Aurora,
`tmp/training/<run>/` (inside the Aurora role's scratch prefix, which the bucket also expires after
7 days). `remove_prefix` empties them when the run ends; `churnguard teardown` finds what a dead run
left (leftovers.py, TrainingRunFinder).
"""

from __future__ import annotations

from typing import Any

from training.sagemaker.jobs import LaunchSettings


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
