"""A model's identity: the id training writes into metadata.json, checked against the model file.

The id is the first 16 hex digits of sha256 over model.json's bytes (model.tar.gz's only member holds
the same bytes). A content hash rather than a name or a date: two folders with the same id serve the
same trees, and a folder whose files were swapped or edited no longer matches its id.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from churnguard.errors import UserError

MODEL_ID_DIGITS = 16
MODEL_ID_PATTERN = re.compile(r"^[0-9a-f]{16}$")
METADATA_JSON = "metadata.json"
MODEL_JSON = "model.json"


class ModelIdentityError(UserError):
    """A model folder's id is missing, malformed or does not match its model file."""


def model_id_of(model_bytes: bytes) -> str:
    return hashlib.sha256(model_bytes).hexdigest()[:MODEL_ID_DIGITS]


@dataclass(frozen=True)
class ModelIdentity:
    """What the registry records about one trained model folder (all from its metadata.json)."""

    model_id: str
    features: list[str]
    cutoff: float
    data_fingerprint: str | None
    trained_at: str | None
    test_metrics: dict[str, Any]
    cv_metrics: dict[str, Any]
    folder: Path


def read_metadata(model_dir: Path) -> dict[str, Any]:
    path = Path(model_dir) / METADATA_JSON
    if not path.exists():
        raise ModelIdentityError(
            f"{model_dir} holds no metadata.json: train a model first (`churnguard train --out DIR`)"
        )
    try:
        metadata = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as problem:
        raise ModelIdentityError(f"{path} is not valid JSON ({problem}): train the model again") from None
    if not isinstance(metadata, dict):
        raise ModelIdentityError(f"{path} is not a JSON object: train the model again")
    return metadata


def read_identity(model_dir: str | Path) -> ModelIdentity:
    """The folder's identity, after checking that its model_id is the hash of its model.json.

    Raises ModelIdentityError naming the fix: a folder trained before model ids existed is retrained
    (or stamped with `churnguard models stamp DIR`); a folder whose model file does not match its id
    was edited or mixed with another run's files and must not be installed.
    """
    model_dir = Path(model_dir)
    metadata = read_metadata(model_dir)
    model_path = model_dir / MODEL_JSON
    if not model_path.exists():
        raise ModelIdentityError(f"{model_dir} holds no model.json: copy the whole training output folder")
    actual = model_id_of(model_path.read_bytes())
    recorded = metadata.get("model_id")
    if recorded is None:
        raise ModelIdentityError(
            f"{model_dir}/metadata.json has no model_id (trained before model ids existed): retrain, or "
            f"record its id with `churnguard models stamp {model_dir}`"
        )
    if recorded != actual:
        raise ModelIdentityError(
            f"{model_dir}: metadata.json names model {recorded} but model.json hashes to {actual}: the "
            "folder mixes files from different training runs; copy the whole folder of one run "
            "(or retrain) before installing it"
        )
    return identity_from_metadata(metadata, model_dir)


def identity_from_metadata(metadata: dict[str, Any], folder: Path) -> ModelIdentity:
    model_id = str(metadata["model_id"])
    if not MODEL_ID_PATTERN.match(model_id):
        raise ModelIdentityError(f"{folder}/metadata.json: model_id {model_id!r} is not 16 hex digits")
    metrics = metadata.get("metrics", {})
    chosen = metrics.get("chosen")
    test = metrics.get(chosen, {}) if chosen else {}
    cross_validation = metadata.get("cross_validation", {}).get(chosen, {}) if chosen else {}
    return ModelIdentity(
        model_id=model_id,
        features=[str(name) for name in metadata["features"]],
        cutoff=float(metadata["cutoff"]),
        data_fingerprint=metadata.get("data", {}).get("fingerprint"),
        trained_at=metadata.get("trained_at"),
        test_metrics={
            key: test[key] for key in ("test_auc", "accuracy", "precision", "recall") if key in test
        },
        cv_metrics={
            "auc_mean": cross_validation.get("auc", {}).get("mean"),
            "auc_std": cross_validation.get("auc", {}).get("std"),
            "cost_per_customer_mean": cross_validation.get("cost_per_customer", {}).get("mean"),
            "folds": metadata.get("cross_validation", {}).get("folds"),
        }
        if cross_validation
        else {},
        folder=folder,
    )


def stamp_model_id(model_dir: str | Path) -> str:
    """Write model_id into a folder trained before ids existed (hash of its model.json); returns it.

    Refuses a folder that already names a different id: that is a mismatch to investigate, not to
    overwrite.
    """
    model_dir = Path(model_dir)
    metadata = read_metadata(model_dir)
    model_path = model_dir / MODEL_JSON
    if not model_path.exists():
        raise ModelIdentityError(f"{model_dir} holds no model.json: nothing to stamp")
    actual = model_id_of(model_path.read_bytes())
    if metadata.get("model_id") not in (None, actual):
        read_identity(model_dir)  # raises the mismatch error
    metadata["model_id"] = actual
    (model_dir / METADATA_JSON).write_text(json.dumps(metadata, indent=2) + "\n", encoding="utf-8")
    return actual
