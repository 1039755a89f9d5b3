"""Trained model folders kept by id, so that rolling back is deploying an earlier folder.

`churnguard models keep DIR` copies a training output folder (model.tar.gz, model.json,
metadata.json, report.html and its images) to `<store>/<model id>/` after checking its id; the
default store is artifacts/models, where `churnguard local up` also keeps the model it installs. Rolling
back is then one command: `make deploy OUT=artifacts/models/<id>` (or `churnguard local up --model
artifacts/models/<id>`).
"""

from __future__ import annotations

import shutil
from pathlib import Path

from churnguard.errors import UserError
from churnguard.lifecycle.identity import read_identity
from churnguard.model_folder import holds_model

DEFAULT_STORE = "artifacts/models"


def keep_model(model_dir: str | Path, store: str | Path = DEFAULT_STORE) -> Path:
    """Copy the folder to store/<id>; a folder already kept under that id is left as it is (same
    id, same model). Returns the kept folder."""
    identity = read_identity(model_dir)
    target = Path(store) / identity.model_id
    if target.exists():
        read_identity(target)  # a damaged copy is reported, not silently trusted
        return target
    if Path(model_dir).resolve() == target.resolve():
        return target
    temporary = target.with_name(f".{identity.model_id}.partial")
    if temporary.exists():
        shutil.rmtree(temporary)
    shutil.copytree(model_dir, temporary)
    temporary.rename(target)  # whole folder or nothing under the id
    return target


def kept_folder(model_id: str, store: str | Path = DEFAULT_STORE) -> Path | None:
    """The folder kept for `model_id` in the store, or None when there is none (or it no longer holds
    that model: a damaged or edited copy is not used)."""
    folder = Path(store) / model_id
    if not holds_model(folder):
        return None
    try:
        return folder if read_identity(folder).model_id == model_id else None
    except UserError:
        return None
