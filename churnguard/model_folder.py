"""A trained model folder, read and checked in one place: model.json with the metadata.json beside it.

Training writes the folder (training.metadata builds metadata.json, locally and on SageMaker alike);
the SQL generator, the drivers, the engine, the lifecycle commands, verify and the deploy read it here,
so a folder that lacks a file or a field, holds a field of the wrong type, or pairs a feature list with
another run's model.json is refused with one message naming the file, the field and the fix, whoever
reads it first. Standard library only: the recommend Lambda reads its bundled folder with it.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from churnguard.errors import UserError
from churnguard.feature_spec import FeatureSpec, FeatureSpecError, check_feature_order

METADATA_JSON = "metadata.json"
MODEL_JSON = "model.json"
MODEL_TARBALL = "model.tar.gz"
# The layout of metadata.json this code reads and writes; a newer one is refused, not guessed at.
METADATA_SCHEMA_VERSION = 1
MODEL_ID_DIGITS = 16
MODEL_ID_PATTERN = re.compile(r"^[0-9a-f]{16}$")
TRAIN_HINT = "train a model first (`churnguard train --out DIR`)"
RETRAIN_HINT = "train the model again (`churnguard train --out DIR`)"


class ModelFolderError(UserError):
    """A model folder lacks a file or a field, holds a value of the wrong type, or mixes two runs."""


def model_id_of(model_bytes: bytes) -> str:
    """A model's id: the first 16 hex digits of sha256 over model.json's bytes (docs/lifecycle.md)."""
    return hashlib.sha256(model_bytes).hexdigest()[:MODEL_ID_DIGITS]


def holds_model(directory: str | Path) -> bool:
    """Whether `directory` looks like a trained model folder (its metadata.json is there), for the
    commands that pick the first of several candidate folders; reading it checks the rest."""
    return (Path(directory) / METADATA_JSON).is_file()


def write_metadata(directory: str | Path, metadata: Mapping[str, Any]) -> Path:
    """Write metadata.json into `directory` as training and `models stamp` write it (2-space JSON,
    keys in the order given, one trailing newline), so reruns stay byte-identical."""
    path = Path(directory) / METADATA_JSON
    path.write_text(json.dumps(metadata, indent=2) + "\n", encoding="utf-8")
    return path


@dataclass(frozen=True)
class ModelFolder:
    """One trained model folder, its metadata.json checked against itself and against model.json.

    The typed fields are what churnguard's code acts on; `document` is the whole metadata.json as
    written (the report, the demo and people read its descriptive blocks: search, hyperparameters,
    importance). Optional fields are None when a folder written by hand or by an older run lacks
    them; the reader that needs one says how to get it.
    """

    path: Path
    document: Mapping[str, Any]
    feature_spec: FeatureSpec
    cutoff: float
    model_id: str | None
    offer_usd: float | None
    lost_customer_usd: float | None
    chosen: str | None
    data_fingerprint: str | None
    container_version: str | None
    trained_at: str | None
    reference: Mapping[str, Any] | None
    # model.json parsed, once: the drivers build their trees from it (the Lambda's cold start reads
    # the file once, not once to check it and again to explain with it).
    model_document: Mapping[str, Any] = field(repr=False, compare=False)

    @classmethod
    def read(cls, directory: str | Path) -> ModelFolder:
        """Read and check `directory`: metadata.json and model.json present, every field read of the
        right type, the feature list the same as the spec's and as model.json's, the id model.json's."""
        path = Path(directory)
        document = _read_metadata(path)
        model_bytes = _read_model_bytes(path)
        fields = _Fields(path / METADATA_JSON, document)
        # The id first: when it does not match, it names the problem (two runs' files mixed) exactly.
        model_id = fields.text("model_id", document.get("model_id"))
        if model_id is not None:
            _check_model_id(path, model_id, model_bytes)
        spec = fields.feature_spec()
        model_document = _model_document(path / MODEL_JSON, model_bytes)
        _check_model_features(path / MODEL_JSON, model_document, spec)
        metrics = fields.block("metrics") or {}
        cost = fields.block("cost") or {}
        data = fields.block("data") or {}
        versions = fields.block("versions") or {}
        fields.block("cross_validation")
        return cls(
            path=path,
            document=document,
            feature_spec=spec,
            cutoff=fields.cutoff(),
            model_id=model_id,
            offer_usd=fields.number("cost.offer_usd", cost.get("offer_usd")),
            lost_customer_usd=fields.number("cost.lost_customer_usd", cost.get("lost_customer_usd")),
            chosen=fields.text("metrics.chosen", metrics.get("chosen")),
            data_fingerprint=fields.text("data.fingerprint", data.get("fingerprint")),
            container_version=fields.text("versions.container", versions.get("container")),
            trained_at=fields.text("trained_at", document.get("trained_at")),
            reference=fields.block("reference"),
            model_document=model_document,
        )

    @property
    def features(self) -> list[str]:
        """The model's inputs in the order it expects them (metadata.json `features`)."""
        return self.feature_spec.names

    @property
    def metadata_path(self) -> Path:
        return self.path / METADATA_JSON

    @property
    def model_json_path(self) -> Path:
        return self.path / MODEL_JSON

    @property
    def tarball_path(self) -> Path:
        return self.path / MODEL_TARBALL

    def chosen_block(self, name: str) -> Mapping[str, Any]:
        """The chosen model's entry in block `name` ("metrics" or "cross_validation"); empty when the
        folder does not record one (a SageMaker run has no cross-validation)."""
        block = self.document.get(name)
        if not self.chosen or not isinstance(block, Mapping):
            return {}
        entry = block.get(self.chosen)
        return entry if isinstance(entry, Mapping) else {}


def _read_metadata(path: Path) -> dict[str, Any]:
    metadata_path = path / METADATA_JSON
    if not path.is_dir():
        # Readers used to take metadata.json's own path; name the folder to pass instead.
        fix = (
            f"pass the folder {path.parent}"
            if path.name == METADATA_JSON
            else f"{TRAIN_HINT}, or pass its folder"
        )
        raise ModelFolderError(f"{path} is not a folder: {fix}")
    try:
        document = json.loads(metadata_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ModelFolderError(f"{path} holds no {METADATA_JSON}: {TRAIN_HINT}") from None
    except (OSError, UnicodeDecodeError, ValueError) as problem:
        raise ModelFolderError(f"{metadata_path} is not readable JSON ({problem}): {RETRAIN_HINT}") from None
    if not isinstance(document, dict):
        raise ModelFolderError(f"{metadata_path} is not a JSON object: {RETRAIN_HINT}")
    return document


def _read_model_bytes(path: Path) -> bytes:
    try:
        return (path / MODEL_JSON).read_bytes()
    except FileNotFoundError:
        raise ModelFolderError(
            f"{path} holds no {MODEL_JSON}: copy the whole folder training wrote, not only {METADATA_JSON}"
        ) from None


def _model_document(model_path: Path, model_bytes: bytes) -> dict[str, Any]:
    try:
        document = json.loads(model_bytes)
    except (UnicodeDecodeError, ValueError) as problem:
        raise ModelFolderError(f"{model_path} is not readable JSON ({problem}): {RETRAIN_HINT}") from None
    if not isinstance(document, dict):
        raise ModelFolderError(f"{model_path} is not a JSON object: {RETRAIN_HINT}")
    return document


def _check_model_features(model_path: Path, document: Mapping[str, Any], spec: FeatureSpec) -> None:
    """model.json's own feature names (xgboost saves them when it was given them) must be the spec's,
    in order; without names, at least their number. A model fed another order scores garbage."""
    try:
        learner = document["learner"]
        names = learner.get("feature_names") or []
        count = int(learner["learner_model_param"]["num_feature"])
    except (ValueError, KeyError, TypeError, AttributeError) as problem:
        raise ModelFolderError(
            f"{model_path} is not an xgboost JSON model ({type(problem).__name__}: {problem}): {RETRAIN_HINT}"
        ) from None
    what = f"{model_path.parent / METADATA_JSON} features vs {model_path}"
    if names:
        try:
            check_feature_order(spec.names, names, what=what)
        except FeatureSpecError as error:
            raise ModelFolderError(f"{error}: the folder mixes two training runs; {RETRAIN_HINT}") from None
    elif count != len(spec.names):
        raise ModelFolderError(
            f"{what}: out of step: {len(spec.names)} features listed, the model takes {count}; {RETRAIN_HINT}"
        )


def _check_model_id(path: Path, model_id: str, model_bytes: bytes) -> None:
    if not MODEL_ID_PATTERN.match(model_id):
        raise ModelFolderError(f"{path / METADATA_JSON}: model_id {model_id!r} is not 16 hex digits")
    actual = model_id_of(model_bytes)
    if model_id != actual:
        raise ModelFolderError(
            f"{path}: {METADATA_JSON} names model {model_id} but {MODEL_JSON} hashes to {actual}: the "
            "folder mixes files from different training runs; copy the whole folder of one run "
            "(or retrain) before using it"
        )


class _Fields:
    """Typed reads of metadata.json's fields; each error names the file, the field and what it found."""

    def __init__(self, path: Path, document: dict[str, Any]) -> None:
        self.path = path
        self.document = document
        version = document.get("schema_version", METADATA_SCHEMA_VERSION)
        if isinstance(version, bool) or not isinstance(version, int):
            self._wrong("schema_version", "a whole number", version)
        if version > METADATA_SCHEMA_VERSION:
            raise ModelFolderError(
                f"{path}: schema_version {version} is newer than this churnguard reads "
                f"({METADATA_SCHEMA_VERSION}): update churnguard"
            )

    def _wrong(self, field: str, wanted: str, found: Any) -> None:
        raise ModelFolderError(
            f"{self.path}: field {field!r} must be {wanted} (found {found!r}): {RETRAIN_HINT}"
        )

    def _required(self, field: str) -> Any:
        if field not in self.document:
            raise ModelFolderError(f"{self.path} has no field {field!r}: {RETRAIN_HINT}")
        return self.document[field]

    def feature_spec(self) -> FeatureSpec:
        features = self._required("features")
        if not isinstance(features, list) or not features or not all(isinstance(n, str) for n in features):
            self._wrong("features", "a non-empty list of feature names", features)
        stored = self._required("feature_spec")
        if not isinstance(stored, list) or not all(isinstance(item, dict) for item in stored):
            self._wrong("feature_spec", "a list of feature objects", stored)
        try:
            spec = FeatureSpec.from_json(stored)
            check_feature_order(spec.names, features, what=f"{self.path}: feature_spec vs features")
        except FeatureSpecError as error:
            raise ModelFolderError(f"{self.path}: {error}: {RETRAIN_HINT}") from None
        return spec

    def cutoff(self) -> float:
        value = self._required("cutoff")
        if _not_number(value) or not 0.0 < value < 1.0:
            self._wrong("cutoff", "a number strictly between 0 and 1", value)
        return float(value)

    def block(self, field: str) -> Mapping[str, Any] | None:
        value = self.document.get(field)
        if value is not None and not isinstance(value, dict):
            self._wrong(field, "a JSON object", value)
        return value

    def text(self, field: str, value: Any) -> str | None:
        if value is not None and not isinstance(value, str):
            self._wrong(field, "text", value)
        return value

    def number(self, field: str, value: Any) -> float | None:
        if value is None:
            return None
        if _not_number(value) or not math.isfinite(value):
            self._wrong(field, "a finite number", value)
        return float(value)


def _not_number(value: Any) -> bool:
    return isinstance(value, bool) or not isinstance(value, int | float)
