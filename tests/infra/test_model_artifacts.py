"""The model folder check: a missing or mismatched model stops synthesis with the command to run."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from churnguard.constants import XGBOOST_CONTAINER_VERSION
from churnguard.model_folder import ModelFolderError
from infra.model_artifacts import ModelArtifactsError, load_model_artifacts


def test_trained_model_dir_is_accepted(trained_model_dir: Path) -> None:
    artifacts = load_model_artifacts(trained_model_dir, needs_tarball=True)
    assert artifacts.tarball.is_file() and artifacts.trees.is_file()
    assert artifacts.folder.features, "metadata.json lists the model's features"


def test_missing_metadata_names_make_train_and_the_option(tmp_path: Path) -> None:
    with pytest.raises(ModelArtifactsError) as raised:
        load_model_artifacts(tmp_path, needs_tarball=True)
    message = str(raised.value)
    assert "lacks metadata.json, model.json, model.tar.gz" in message
    assert "make train" in message and "-c model_dir=" in message


def test_tarball_required_only_when_sagemaker_serves_it(trained_model_dir: Path, tmp_path: Path) -> None:
    for name in ("metadata.json", "model.json"):
        shutil.copy(trained_model_dir / name, tmp_path / name)
    load_model_artifacts(tmp_path, needs_tarball=False)
    with pytest.raises(ModelArtifactsError, match=r"lacks model\.tar\.gz; run `make train`"):
        load_model_artifacts(tmp_path, needs_tarball=True)


def test_model_for_another_container_is_rejected(trained_model_dir: Path, tmp_path: Path) -> None:
    for name in ("model.json", "model.tar.gz"):
        shutil.copy(trained_model_dir / name, tmp_path / name)
    metadata = json.loads((trained_model_dir / "metadata.json").read_text())
    metadata.setdefault("versions", {})["container"] = "1.7-1"
    (tmp_path / "metadata.json").write_text(json.dumps(metadata))
    with pytest.raises(
        ModelArtifactsError, match=f"container 1.7-1, but the stack deploys {XGBOOST_CONTAINER_VERSION}"
    ):
        load_model_artifacts(tmp_path, needs_tarball=True)


def test_unreadable_metadata_is_reported(trained_model_dir: Path, tmp_path: Path) -> None:
    shutil.copy(trained_model_dir / "model.json", tmp_path / "model.json")
    (tmp_path / "metadata.json").write_text("{not json")
    with pytest.raises(ModelFolderError, match="is not readable JSON"):
        load_model_artifacts(tmp_path, needs_tarball=False)
