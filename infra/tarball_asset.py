"""A `.tar.gz` file uploaded as a CDK file asset whose S3 key still ends in `.tar.gz`.

SageMaker's CreateModel wants ModelDataUrl to name "a single gzip compressed tar archive (.tar.gz
suffix)". `aws_s3_assets.Asset` keys a file by its content hash plus the file's last extension only,
so `model.tar.gz` is uploaded as `<hash>.gz` (aws-cdk issues 12699, 30257). The stack synthesizer
keys a file asset as its source hash plus that last extension; registering the staged file under the
source hash `<hash>.tar` therefore gives `<hash>.tar.gz`. The upload is the ordinary asset upload of
`cdk deploy`: no Docker, no extra resource, nothing to delete. The key is checked at synth, so a
CDK release that keys assets differently stops the synth instead of failing CreateModel mid-deploy.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import aws_cdk as cdk
from constructs import Construct

from churnguard.errors import UserError

TARBALL_SUFFIX = ".tar.gz"


class TarballAssetError(UserError):
    """The file is not a .tar.gz, or the synthesizer would not key it as one."""


@dataclass(frozen=True)
class TarballAsset:
    """Where `cdk deploy` uploads the file: bucket, key (ending .tar.gz) and the s3:// URL."""

    bucket_name: str
    object_key: str
    s3_object_url: str


def tarball_asset(scope: Construct, construct_id: str, path: Path) -> TarballAsset:
    """Stage `path` in the cloud assembly and register it with the stack's synthesizer so that its
    object key ends in `.tar.gz`."""
    if not path.name.endswith(TARBALL_SUFFIX):
        raise TarballAssetError(f"{path} must be a gzip compressed tar archive named *{TARBALL_SUFFIX}")
    stack = cdk.Stack.of(scope)
    staging = cdk.AssetStaging(scope, construct_id, source_path=str(path))
    location = stack.synthesizer.add_file_asset(
        file_name=staging.relative_staged_path(stack),
        packaging=cdk.FileAssetPackaging.FILE,
        source_hash=f"{staging.asset_hash}.tar",
    )
    if not location.object_key.endswith(TARBALL_SUFFIX):
        raise TarballAssetError(
            f"the CDK synthesizer keyed {path.name} as {location.object_key!r}, not *{TARBALL_SUFFIX}; "
            "SageMaker would refuse it (see infra/tarball_asset.py)"
        )
    return TarballAsset(location.bucket_name, location.object_key, location.s3_object_url)
