"""The training run's outputs the stack deploys, checked before synthesis builds anything from them.

A missing model is the most common first-run mistake, so the message says which command makes one.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from churnguard.constants import XGBOOST_CONTAINER_VERSION
from churnguard.errors import UserError
from churnguard.model_folder import METADATA_JSON, MODEL_JSON, MODEL_TARBALL, ModelFolder

TRAIN_HINT = "run `make train` (or pass -c model_dir=DIR pointing at a `churnguard train --out DIR` folder)"


class ModelArtifactsError(UserError):
    """The model folder lacks a file the stack needs, or was trained for another container."""


@dataclass(frozen=True)
class ModelArtifacts:
    """One training run's folder, read and checked, and the paths the stack uploads."""

    folder: ModelFolder

    @property
    def directory(self) -> Path:
        return self.folder.path

    @property
    def tarball(self) -> Path:
        return self.folder.tarball_path

    @property
    def trees(self) -> Path:
        return self.folder.model_json_path


def load_model_artifacts(model_dir: Path, *, needs_tarball: bool) -> ModelArtifacts:
    """Check the folder: metadata.json and model.json always; model.tar.gz when SageMaker serves it."""
    required = [METADATA_JSON, MODEL_JSON] + ([MODEL_TARBALL] if needs_tarball else [])
    missing = [name for name in required if not (model_dir / name).is_file()]
    if missing:
        raise ModelArtifactsError(f"no trained model: {model_dir} lacks {', '.join(missing)}; {TRAIN_HINT}")
    folder = ModelFolder.read(model_dir)
    if folder.container_version is not None and folder.container_version != XGBOOST_CONTAINER_VERSION:
        raise ModelArtifactsError(
            f"{folder.metadata_path} was trained for XGBoost container {folder.container_version}, but "
            f"the stack deploys {XGBOOST_CONTAINER_VERSION}; retrain with `make train`"
        )
    return ModelArtifacts(folder)
