"""The files a training run leaves in its output folder, and reading the model back.

model.tar.gz holds one member, `xgboost-model`, the way the SageMaker built-in XGBoost container
expects it; its bytes are xgboost's JSON format (the container's `Booster.load_model` recognises JSON
by its content), identical to model.json, which the SQL compiler and the drivers read directly.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import tarfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xgboost as xgb

from churnguard.customer_schema import COLUMN_NAMES
from churnguard.model_folder import MODEL_JSON, MODEL_TARBALL

MODEL_MEMBER = "xgboost-model"
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


# Reference distributions (metadata["reference"]): quantile bins of each feature over the rows the
# model trained on, and of the score, for `churnguard drift` (churnguard/lifecycle/drift.py). Ten
# bins is the usual choice for the population stability index: fine enough to see a shift, coarse
# enough that a few thousand customers fill every bin.
REFERENCE_BINS = 10


def quantile_ranks(rows: int, bins: int = REFERENCE_BINS) -> list[int]:
    """The 0-based positions, in sorted order, of the values np.quantile(method="higher") picks for
    the 1/bins ... (bins-1)/bins quantiles of `rows` values: numpy's own formula, ceil((n-1) q), so
    a cut computed from order statistics (in SQL, training.sagemaker.table_sql) is the cut numpy computes."""
    quantiles = np.arange(1, bins) / bins
    return [int(rank) for rank in np.ceil((rows - 1) * quantiles).astype(np.intp)]


def reference_cuts(rows: int, value_at: Callable[[int], float], bins: int = REFERENCE_BINS) -> list[float]:
    """The cut points of reference_bins_from, from the order statistics alone."""
    smallest = value_at(0)
    return sorted({cut for cut in (value_at(rank) for rank in quantile_ranks(rows, bins)) if cut > smallest})


def reference_bins_from(
    rows: int,
    value_at: Callable[[int], float],
    counts_in: Callable[[list[float]], list[int]],
    bins: int = REFERENCE_BINS,
) -> dict[str, Any]:
    """Quantile cut points and bin shares of `rows` values known only by order statistic
    (`value_at(position)` in sorted order) and bin counts (`counts_in(cuts)`).

    A value falls in bin i = the number of cut points <= value (bin 0 below the first cut, the last
    bin at or above the last): the same rule the drift SQL writes as CASE WHEN x < cut ... . Cut
    points at or below the smallest value are dropped, so no bin is empty by construction, and
    repeated quantiles (a feature with few distinct values) collapse into one cut.
    """
    cuts = reference_cuts(rows, value_at, bins)
    counts = counts_in(cuts)
    return {
        "cuts": cuts,
        "fractions": [round(count / rows, 6) for count in counts],
        "rows": rows,
    }


def reference_bins(values: np.ndarray, bins: int = REFERENCE_BINS) -> dict[str, Any]:
    """reference_bins_from over the finite values of an array."""
    from churnguard.lifecycle.psi import bin_counts

    finite = np.sort(values[~np.isnan(values)])
    return reference_bins_from(
        len(finite),
        lambda rank: float(finite[rank]),
        lambda cuts: bin_counts(finite.tolist(), cuts),
        bins,
    )


def reference_distributions(
    names: list[str], matrix: np.ndarray, scores: np.ndarray, bins: int = REFERENCE_BINS
) -> dict[str, Any]:
    """metadata["reference"]: per-feature and score quantile bins (see reference_bins)."""
    return reference_block(
        {name: reference_bins(matrix[:, index], bins) for index, name in enumerate(names)},
        reference_bins(np.asarray(scores, dtype=float), bins),
        bins,
    )


def reference_block(
    features: dict[str, dict[str, Any]], score: dict[str, Any], bins: int = REFERENCE_BINS
) -> dict[str, Any]:
    """metadata["reference"] from each feature's bins and the score's, however they were counted."""
    return {"bins": bins, "rule": "bin = number of cuts <= value", "features": features, "score": score}
