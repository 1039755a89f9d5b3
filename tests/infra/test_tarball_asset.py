"""infra.tarball_asset: a .tar.gz keeps its whole suffix in S3, and anything else is refused."""

from __future__ import annotations

import tarfile
from pathlib import Path

import aws_cdk as cdk
import pytest

from infra.tarball_asset import TarballAssetError, tarball_asset


def make_tarball(path: Path) -> Path:
    member = path.parent / "payload.txt"
    member.write_text("model bytes", encoding="utf-8")
    with tarfile.open(path, "w:gz") as archive:
        archive.add(member, arcname=member.name)
    return path


def test_the_object_key_keeps_tar_gz_where_an_ordinary_asset_keeps_only_gz(tmp_path: Path) -> None:
    from aws_cdk import aws_s3_assets as s3_assets

    tarball = make_tarball(tmp_path / "model.tar.gz")
    stack = cdk.Stack(cdk.App(outdir=str(tmp_path / "out")), "Stack")
    ordinary = s3_assets.Asset(stack, "Ordinary", path=str(tarball))
    asset = tarball_asset(stack, "Model", tarball)
    assert ordinary.s3_object_key.endswith(".gz") and not ordinary.s3_object_key.endswith(".tar.gz")
    assert asset.object_key == f"{ordinary.asset_hash}.tar.gz", "the same content hash, the whole suffix"
    assert stack.resolve(asset.s3_object_url)["Fn::Sub"].endswith(f"/{asset.object_key}")


def test_a_file_not_named_tar_gz_is_refused_naming_it(tmp_path: Path) -> None:
    model = tmp_path / "model.gz"
    model.write_bytes(b"\x1f\x8b")
    stack = cdk.Stack(cdk.App(outdir=str(tmp_path / "out")), "Stack")
    with pytest.raises(TarballAssetError, match=r"model\.gz must be a gzip compressed tar archive named"):
        tarball_asset(stack, "Model", model)
