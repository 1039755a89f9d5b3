"""Which trained model folder a command uses: the one named, else the one the database serves.

`recommend`, the console, `offers report` and `verify --local` take --model, then $CHURNGUARD_MODEL_DIR,
then the folder `churnguard local up` installed (kept in the model store, recorded in its state
file), then artifacts/model. `drift` and `models list` ask the database which model is live and look
for that model's folder in the same places and in the model store (churnguard.lifecycle.store).
No message names a folder that does not exist.
"""

from __future__ import annotations

import os
from pathlib import Path

from churnguard.errors import UserError
from churnguard.lifecycle.identity import read_identity
from churnguard.lifecycle.store import kept_folder
from churnguard.local.state import read_state
from churnguard.model_folder import holds_model

MODEL_DIR_ENV = "CHURNGUARD_MODEL_DIR"
DEFAULT_MODEL_DIR = Path("artifacts/model")


def model_dir(explicit: Path | None) -> Path:
    """The trained model to explain scores with: --model, then $CHURNGUARD_MODEL_DIR, then the model
    `churnguard local up` installed into the local database, then artifacts/model (`churnguard train`).
    """
    candidates = _candidates(explicit)
    for directory in candidates:
        if holds_model(directory):
            return directory
    raise UserError(
        f"no trained model in {candidates[0]} (metadata.json missing): pass --model DIR, set "
        f"${MODEL_DIR_ENV}, or run `churnguard train --out {DEFAULT_MODEL_DIR}`"
    )


def _candidates(explicit: Path | None) -> list[Path]:
    if explicit:
        return [explicit]
    if os.environ.get(MODEL_DIR_ENV):
        return [Path(os.environ[MODEL_DIR_ENV])]
    return [*_local_server_models(), DEFAULT_MODEL_DIR]


def _local_server_models() -> list[Path]:
    """The folder `churnguard local up` installed, if a local server is recorded."""
    state = read_state()
    if state is None:
        return []
    return [Path(state.model_dir)] if state.model_dir else [Path(state.base_dir) / "model"]


def folder_of(model_id: str) -> Path | None:
    """A folder holding model `model_id`: the model store's, else the first of model_dir's places
    (without --model) that holds it; None when there is none."""
    kept = kept_folder(model_id)
    if kept is not None:
        return kept
    for directory in _candidates(None):
        if _holds(directory, model_id):
            return directory
    return None


def _holds(directory: Path, model_id: str) -> bool:
    if not holds_model(directory):
        return False
    try:
        return read_identity(directory).model_id == model_id
    except UserError:
        return False


def live_model_dir(live_id: str, explicit: Path | None) -> Path:
    """The folder of the model the database serves (`live_id`): --model when it holds that model,
    else folder_of(live_id); otherwise a UserError naming only folders that exist."""
    if explicit is not None:
        held = read_identity(explicit).model_id
        if held == live_id:
            return explicit
        elsewhere = folder_of(live_id)
        fix = f"use --model {elsewhere}, or leave --model out" if elsewhere else _not_found_hint(live_id)
        raise UserError(f"the database serves model {live_id} but {explicit} holds model {held}: {fix}")
    found = folder_of(live_id)
    if found is None:
        hint = _not_found_hint(live_id)
        raise UserError(f"the database serves model {live_id}, and no folder found holds it: {hint}")
    return found


def _not_found_hint(live_id: str) -> str:
    return (
        f"pass --model with the folder model {live_id} was trained into (keep trained folders with "
        "`churnguard models keep DIR`, then they are found)"
    )
