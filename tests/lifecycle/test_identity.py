"""A model's id: written by training, the hash of its model file, and refused when they disagree."""

from __future__ import annotations

import hashlib
import json
import shutil
import tarfile
from pathlib import Path

import pytest

from churnguard.lifecycle.identity import ModelIdentityError, read_identity, stamp_model_id
from churnguard.lifecycle.store import keep_model
from churnguard.model_folder import ModelFolderError


def copy_of(model_dir: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(model_dir, tmp_path / "copy"))


def test_training_writes_the_hash_of_the_model_file_as_its_id(trained_model_dir: Path) -> None:
    metadata = json.loads((trained_model_dir / "metadata.json").read_text())
    model_bytes = (trained_model_dir / "model.json").read_bytes()
    assert metadata["model_id"] == hashlib.sha256(model_bytes).hexdigest()[:16]
    with tarfile.open(trained_model_dir / "model.tar.gz") as archive:
        member = archive.extractfile("xgboost-model")
        assert member is not None and member.read() == model_bytes  # the served bytes carry the same id
    identity = read_identity(trained_model_dir)
    assert identity.model_id == metadata["model_id"]
    assert identity.features == metadata["features"]
    assert identity.cutoff == metadata["cutoff"]
    assert identity.test_metrics["test_auc"] == metadata["metrics"][metadata["metrics"]["chosen"]]["test_auc"]
    assert identity.cv_metrics["auc_mean"] is not None


def test_a_folder_whose_model_file_was_swapped_is_refused(
    trained_model_dir: Path, second_model_dir: Path, tmp_path: Path
) -> None:
    mixed = copy_of(trained_model_dir, tmp_path)
    shutil.copy(second_model_dir / "model.json", mixed / "model.json")
    with pytest.raises(
        ModelFolderError, match=r"names model [0-9a-f]{16} but model\.json hashes to.*copy the whole"
    ):
        read_identity(mixed)


def test_a_folder_from_before_model_ids_is_refused_until_stamped(
    trained_model_dir: Path, tmp_path: Path
) -> None:
    old = copy_of(trained_model_dir, tmp_path)
    metadata = json.loads((old / "metadata.json").read_text())
    expected = metadata.pop("model_id")
    (old / "metadata.json").write_text(json.dumps(metadata))
    with pytest.raises(ModelIdentityError, match=r"no model_id.*churnguard models stamp"):
        read_identity(old)
    assert stamp_model_id(old) == expected
    assert read_identity(old).model_id == expected


def test_kept_folders_are_found_by_id(trained_model_dir: Path, tmp_path: Path) -> None:
    kept = keep_model(trained_model_dir, tmp_path / "store")
    assert kept == tmp_path / "store" / read_identity(trained_model_dir).model_id
    assert (kept / "model.json").read_bytes() == (trained_model_dir / "model.json").read_bytes()
    assert keep_model(trained_model_dir, tmp_path / "store") == kept  # again: same folder, untouched


def test_registry_statements_refuse_values_that_would_need_escaping(trained_model_dir: Path) -> None:
    """The deploy bootstrap applies plain SQL text: anything not plainly safe is refused, not quoted."""
    from dataclasses import replace

    from churnguard.lifecycle.registry import RegistryError, registry_statements

    identity = read_identity(trained_model_dir)
    assert registry_statements(identity)[0].startswith("INSERT INTO models")
    for bad in (
        replace(identity, features=[*identity.features, "x'); DROP TABLE customers; --"]),
        replace(identity, data_fingerprint="sha256:' OR 1=1"),
        replace(identity, cutoff=float("nan")),
        replace(identity, trained_at="2026-01-01'; --"),
    ):
        with pytest.raises(RegistryError, match=r"retrain|finite"):
            registry_statements(bad)
