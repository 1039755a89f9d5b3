"""ARNs of uploaded CDK file assets, so IAM statements can name the one object instead of the bucket.

Assets live in the CDK bootstrap bucket, shared by every stack in the account and region; a grant
on `bucket/*` (what `Asset.grant_read` gives) would expose other stacks' assets too.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_s3_assets as s3_assets


def asset_bucket_arn(asset: s3_assets.Asset) -> str:
    return cdk.Stack.of(asset).format_arn(service="s3", region="", account="", resource=asset.s3_bucket_name)


def asset_object_arn(asset: s3_assets.Asset) -> str:
    return f"{asset_bucket_arn(asset)}/{asset.s3_object_key}"
