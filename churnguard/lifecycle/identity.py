"""A model's identity: the id training writes into metadata.json, checked against the model file.

The id is the first 16 hex digits of sha256 over model.json's bytes (model.tar.gz's only member holds
the same bytes). A content hash rather than a name or a date: two folders with the same id serve the
same trees, and a folder whose files were swapped or edited no longer matches its id (ModelFolder
refuses it on every read).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from churnguard.model_folder import ModelFolder, ModelFolderError, model_id_of, write_metadata


class ModelIdentityError(ModelFolderError):
    """A model folder has no id: it was trained before model ids existed."""


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


def read_identity(model_dir: str | Path) -> ModelIdentity:
    """The folder's identity; its id was checked against its model.json when the folder was read.

    Raises ModelIdentityError naming the fix for a folder trained before model ids existed: retrain,
    or stamp it with `churnguard models stamp DIR`.
    """
    return identity_of(ModelFolder.read(model_dir))


def identity_of(folder: ModelFolder) -> ModelIdentity:
    if folder.model_id is None:
        raise ModelIdentityError(
            f"{folder.metadata_path} has no model_id (trained before model ids existed): retrain, or "
            f"record its id with `churnguard models stamp {folder.path}`"
        )
    test = folder.chosen_block("metrics")
    cross_validation = folder.chosen_block("cross_validation")
    return ModelIdentity(
        model_id=folder.model_id,
        features=folder.features,
        cutoff=folder.cutoff,
        data_fingerprint=folder.data_fingerprint,
        trained_at=folder.trained_at,
        test_metrics={
            key: test[key] for key in ("test_auc", "accuracy", "precision", "recall") if key in test
        },
        cv_metrics={
            "auc_mean": cross_validation.get("auc", {}).get("mean"),
            "auc_std": cross_validation.get("auc", {}).get("std"),
            "cost_per_customer_mean": cross_validation.get("cost_per_customer", {}).get("mean"),
            "folds": folder.document["cross_validation"].get("folds"),
        }
        if cross_validation
        else {},
        folder=folder.path,
    )


def stamp_model_id(model_dir: str | Path) -> str:
    """Write model_id into a folder trained before ids existed (hash of its model.json); returns it.

    A folder that already names a different id is refused when it is read: that is a mismatch to
    investigate, not to overwrite.
    """
    folder = ModelFolder.read(model_dir)
    actual = model_id_of(folder.model_json_path.read_bytes())
    write_metadata(folder.path, {**folder.document, "model_id": actual})
    return actual
