"""The files a training run leaves in its output folder, and reading the model back.

model.tar.gz holds one member, `xgboost-model`, the way the SageMaker built-in XGBoost container
expects it; its bytes are xgboost's JSON format (the container's `Booster.load_model` recognises JSON
by its content), identical to model.json, which the SQL compiler and the drivers read directly.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
from pathlib import Path
from typing import Any

import pandas as pd
import xgboost as xgb

from churnguard.customer_schema import COLUMN_NAMES

MODEL_MEMBER = "xgboost-model"
MODEL_TARBALL = "model.tar.gz"
MODEL_JSON = "model.json"
METADATA_JSON = "metadata.json"
METADATA_SCHEMA_VERSION = 1
# A fixed modification time keeps the archive byte-for-byte reproducible.
_ARCHIVE_MTIME = 0


def model_json_bytes(booster: xgb.Booster) -> bytes:
    return bytes(booster.save_raw(raw_format="json"))


def write_model_files(booster: xgb.Booster, out_dir: Path) -> None:
    """model.json and model.tar.gz (member `xgboost-model`), both the same JSON model."""
    model_bytes = model_json_bytes(booster)
    (out_dir / MODEL_JSON).write_bytes(model_bytes)
    buffer = io.BytesIO()
    # gzip's header carries a timestamp: mtime=0 through GzipFile keeps reruns identical.
    with (
        gzip.GzipFile(fileobj=buffer, mode="wb", mtime=_ARCHIVE_MTIME) as zipped,
        tarfile.open(fileobj=zipped, mode="w") as archive,
    ):
        member = tarfile.TarInfo(MODEL_MEMBER)
        member.size = len(model_bytes)
        member.mtime = _ARCHIVE_MTIME
        member.mode = 0o644
        archive.addfile(member, io.BytesIO(model_bytes))
    (out_dir / MODEL_TARBALL).write_bytes(buffer.getvalue())


def load_model_tarball(path: Path) -> xgb.Booster:
    """The booster inside a model.tar.gz, read as the serving container reads it."""
    with tarfile.open(path, mode="r:gz") as archive:
        names = archive.getnames()
        if names != [MODEL_MEMBER]:
            raise ValueError(f"{path}: expected exactly one member {MODEL_MEMBER!r}, found {names}")
        extracted = archive.extractfile(MODEL_MEMBER)
        assert extracted is not None
        model_bytes = extracted.read()
    booster = xgb.Booster()
    booster.load_model(bytearray(model_bytes))
    return booster


def data_fingerprint(customers: pd.DataFrame) -> str:
    """sha256 of the table as canonical CSV (schema columns in schema order), to tie a model to its data."""
    canonical = customers[list(COLUMN_NAMES)].to_csv(index=False, lineterminator="\n")
    return "sha256:" + hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def write_metadata(metadata: dict[str, Any], out_dir: Path) -> Path:
    path = out_dir / METADATA_JSON
    path.write_text(json.dumps(metadata, indent=2, sort_keys=False) + "\n", encoding="utf-8")
    return path
