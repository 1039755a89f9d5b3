"""ModelFolder: the one reader of a trained model folder, its errors, and that nothing else reads it."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from churnguard.model_folder import (
    METADATA_SCHEMA_VERSION,
    ModelFolder,
    ModelFolderError,
    holds_model,
    model_id_of,
    write_metadata,
)

ROOT = Path(__file__).resolve().parent.parent


def damaged(trained_model_dir: Path, tmp_path: Path, change: Callable[[dict[str, Any]], None]) -> Path:
    """A copy of the trained folder whose metadata.json went through `change`."""
    folder = Path(shutil.copytree(trained_model_dir, tmp_path / "model"))
    metadata = json.loads((folder / "metadata.json").read_text(encoding="utf-8"))
    change(metadata)
    (folder / "metadata.json").write_text(json.dumps(metadata), encoding="utf-8")
    return folder


def test_the_trained_folder_is_read_with_every_typed_field(trained_model_dir: Path) -> None:
    metadata = json.loads((trained_model_dir / "metadata.json").read_text(encoding="utf-8"))
    folder = ModelFolder.read(trained_model_dir)
    assert folder.features == metadata["features"] == folder.feature_spec.names
    assert folder.cutoff == metadata["cutoff"]
    assert folder.model_id == metadata["model_id"] == model_id_of(folder.model_json_path.read_bytes())
    assert (folder.offer_usd, folder.lost_customer_usd) == (50.0, 500.0)
    assert folder.chosen == metadata["metrics"]["chosen"]
    assert folder.data_fingerprint == metadata["data"]["fingerprint"]
    assert folder.container_version == metadata["versions"]["container"]
    assert folder.reference == metadata["reference"]
    assert folder.chosen_block("metrics")["test_auc"] == metadata["metrics"][folder.chosen]["test_auc"]
    assert folder.document == metadata
    assert holds_model(trained_model_dir)


def test_metadata_is_written_byte_identically_to_what_it_reads_back(tmp_path: Path) -> None:
    document = {"features": ["a"], "nested": {"z": 1, "a": [1.5, None]}}
    path = write_metadata(tmp_path, document)
    assert path == tmp_path / "metadata.json"
    assert path.read_text(encoding="utf-8") == json.dumps(document, indent=2) + "\n"


def unreadable_model(folder: Path) -> None:
    """model.json that is not JSON, in a folder without an id (else the id check names it first)."""
    metadata = json.loads((folder / "metadata.json").read_text(encoding="utf-8"))
    del metadata["model_id"]
    write_metadata(folder, metadata)
    (folder / "model.json").write_text("{not json")


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (
            lambda folder: (folder / "metadata.json").unlink(),
            r"holds no metadata\.json: train a model first \(`churnguard train --out DIR`\)",
        ),
        (lambda folder: (folder / "model.json").unlink(), r"holds no model\.json: copy the whole folder"),
        (
            lambda folder: (folder / "metadata.json").write_text("{not json"),
            r"metadata\.json is not readable JSON",
        ),
        (
            lambda folder: (folder / "metadata.json").write_text("[1, 2]"),
            r"metadata\.json is not a JSON object",
        ),
        (unreadable_model, r"model\.json is not readable JSON"),
    ],
)
def test_a_missing_or_unreadable_file_is_named_with_the_fix(
    trained_model_dir: Path, tmp_path: Path, damage: Callable[[Path], object], message: str
) -> None:
    folder = Path(shutil.copytree(trained_model_dir, tmp_path / "model"))
    damage(folder)
    with pytest.raises(ModelFolderError, match=message):
        ModelFolder.read(folder)


def test_a_path_that_is_not_a_folder_is_named(trained_model_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(ModelFolderError, match=r"nowhere is not a folder: train a model first"):
        ModelFolder.read(tmp_path / "nowhere")
    with pytest.raises(
        ModelFolderError, match=rf"metadata\.json is not a folder: pass the folder {trained_model_dir}$"
    ):
        ModelFolder.read(trained_model_dir / "metadata.json")
    assert not holds_model(tmp_path)


@pytest.mark.parametrize("field", ["features", "feature_spec", "cutoff"])
def test_a_missing_field_is_named(trained_model_dir: Path, tmp_path: Path, field: str) -> None:
    folder = damaged(trained_model_dir, tmp_path, lambda metadata: metadata.pop(field))
    with pytest.raises(
        ModelFolderError, match=rf"metadata\.json has no field '{field}': train the model again"
    ):
        ModelFolder.read(folder)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda m: m.update(cutoff="0.3"),
            r"field 'cutoff' must be a number strictly between 0 and 1 \(found '0\.3'\)",
        ),
        (
            lambda m: m.update(cutoff=1.0),
            r"field 'cutoff' must be a number strictly between 0 and 1 \(found 1\.0\)",
        ),
        (lambda m: m.update(cutoff=True), r"field 'cutoff' must be a number .* \(found True\)"),
        (
            lambda m: m.update(features="day_mins"),
            r"field 'features' must be a non-empty list of feature names",
        ),
        (
            lambda m: m.update(feature_spec={"name": "x"}),
            r"field 'feature_spec' must be a list of feature objects",
        ),
        (
            lambda m: m["cost"].update(offer_usd="50"),
            r"field 'cost\.offer_usd' must be a finite number \(found '50'\)",
        ),
        (lambda m: m.update(data=[1]), r"field 'data' must be a JSON object \(found \[1\]\)"),
        (
            lambda m: m["versions"].update(container=3),
            r"field 'versions\.container' must be text \(found 3\)",
        ),
        (lambda m: m.update(reference="bins"), r"field 'reference' must be a JSON object"),
        (lambda m: m.update(schema_version="1"), r"field 'schema_version' must be a whole number"),
        (lambda m: m.update(model_id="not-an-id"), r"model_id 'not-an-id' is not 16 hex digits"),
    ],
)
def test_a_field_of_the_wrong_type_is_named_with_what_was_found(
    trained_model_dir: Path, tmp_path: Path, change: Callable[[dict[str, Any]], None], message: str
) -> None:
    folder = damaged(trained_model_dir, tmp_path, change)
    with pytest.raises(ModelFolderError, match=message):
        ModelFolder.read(folder)


def test_a_newer_layout_is_refused_rather_than_guessed_at(trained_model_dir: Path, tmp_path: Path) -> None:
    folder = damaged(
        trained_model_dir, tmp_path, lambda m: m.update(schema_version=METADATA_SCHEMA_VERSION + 1)
    )
    with pytest.raises(ModelFolderError, match=r"schema_version 2 is newer than this churnguard reads"):
        ModelFolder.read(folder)


def test_features_out_of_step_with_the_spec_are_refused(trained_model_dir: Path, tmp_path: Path) -> None:
    folder = damaged(trained_model_dir, tmp_path, lambda m: m.update(features=m["features"][::-1]))
    with pytest.raises(ModelFolderError, match=r"feature_spec vs features: out of step at position 0"):
        ModelFolder.read(folder)


def test_features_out_of_step_with_model_json_are_refused(trained_model_dir: Path, tmp_path: Path) -> None:
    """The spec and its list agree with each other but not with the trees: the model would be fed its
    features in another order. (Without an id, so the feature check itself is what refuses it.)"""

    def swap_first_two(metadata: dict[str, Any]) -> None:
        spec = metadata["feature_spec"]
        metadata["feature_spec"] = [spec[1], spec[0], *spec[2:]]
        metadata["features"] = [item["name"] for item in metadata["feature_spec"]]
        del metadata["model_id"]

    folder = damaged(trained_model_dir, tmp_path, swap_first_two)
    with pytest.raises(
        ModelFolderError,
        match=r"features vs .*model\.json: out of step at position 0.*mixes two training runs",
    ):
        ModelFolder.read(folder)


def test_a_model_id_that_is_not_the_model_files_hash_is_refused(
    trained_model_dir: Path, tmp_path: Path
) -> None:
    folder = damaged(trained_model_dir, tmp_path, lambda m: m.update(model_id="0" * 16))
    with pytest.raises(ModelFolderError, match=r"names model 0{16} but model\.json hashes to [0-9a-f]{16}"):
        ModelFolder.read(folder)


def test_only_the_model_folder_module_names_the_metadata_file() -> None:
    """Every reader goes through ModelFolder: no other module of churnguard, training, infra, the
    Lambdas or the benchmarks spells the file's name as a path or parses it itself."""
    spelled = re.compile(
        r"""["']metadata\.json["'](?![a-z])"""  # the file's name as a literal
        r"|/\s*METADATA_JSON"  # a path built to it
        r"|json\.loads?\(.*metadata|metadata\w*\s*=\s*json\.loads?\("  # parsed by hand
    )
    found = []
    for package in ("churnguard", "training", "infra", "lambda", "bench"):
        for path in sorted((ROOT / package).rglob("*.py")):
            if path == ROOT / "churnguard" / "model_folder.py":
                continue
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if spelled.search(line):
                    found.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert found == [], "\n".join(found)
