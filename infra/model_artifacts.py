"""The training run's outputs the stack deploys, checked before synthesis builds anything from them.

A missing model is the most common first-run mistake, so the message says which command makes one.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from churnguard.constants import XGBOOST_CONTAINER_VERSION
from churnguard.errors import UserError

TRAIN_HINT = "run `make train` (or pass -c model_dir=DIR pointing at a `churnguard train --out DIR` folder)"


class ModelArtifactsError(UserError):
    """The model folder lacks a file the stack needs, or was trained for another container."""


@dataclass(frozen=True)
class ModelArtifacts:
    """Paths of one training run's outputs and its parsed metadata."""

    directory: Path
    metadata_path: Path
    tarball: Path
    trees: Path
    metadata: dict[str, Any]


def load_model_artifacts(model_dir: Path, *, needs_tarball: bool) -> ModelArtifacts:
    """Check the folder: metadata.json and model.json always; model.tar.gz when SageMaker serves it."""
    metadata_path = model_dir / "metadata.json"
    if not metadata_path.is_file():
        raise ModelArtifactsError(f"no trained model: {metadata_path} does not exist; {TRAIN_HINT}")
    try:
        metadata = json.loads(metadata_path.read_text(encoding="utf-8"))
    except ValueError as error:
        raise ModelArtifactsError(f"{metadata_path} is not valid JSON ({error}); {TRAIN_HINT}") from None
    required = ["model.json"] + (["model.tar.gz"] if needs_tarball else [])
    missing = [name for name in required if not (model_dir / name).is_file()]
    if missing:
        raise ModelArtifactsError(f"{model_dir} lacks {', '.join(missing)}; {TRAIN_HINT}")
    container = (metadata.get("versions") or {}).get("container")
    if container is not None and container != XGBOOST_CONTAINER_VERSION:
        raise ModelArtifactsError(
            f"{metadata_path} was trained for XGBoost container {container}, but the stack deploys "
            f"{XGBOOST_CONTAINER_VERSION}; retrain with `make train`"
        )
    return ModelArtifacts(
        directory=model_dir,
        metadata_path=metadata_path,
        tarball=model_dir / "model.tar.gz",
        trees=model_dir / "model.json",
        metadata=metadata,
    )
