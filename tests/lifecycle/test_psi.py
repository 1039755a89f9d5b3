"""The population stability index and the reference bins training stores."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from churnguard.lifecycle import psi
from training.artifacts import quantile_ranks, reference_bins


def test_psi_is_zero_for_equal_shares_and_grows_with_the_shift() -> None:
    shares = [0.1] * 10
    assert psi.psi(shares, shares) == 0.0
    small = psi.psi(shares, [0.12, 0.08] * 5)
    large = psi.psi(shares, [0.2, 0.0] * 5)
    assert 0 < small < psi.WATCH < psi.ACT < large
    # By hand: (0.2 - 0.1) ln 2 + (1e-4 - 0.1) ln(1e-3), five times each.
    assert large == pytest.approx(5 * (0.1 * math.log(2) + (1e-4 - 0.1) * math.log(1e-3)))


def test_levels_follow_the_usual_thresholds() -> None:
    assert [psi.level(v) for v in (0.0, 0.099, 0.1, 0.249, 0.25, 3.0)] == [
        "ok",
        "ok",
        "watch",
        "watch",
        "act",
        "act",
    ]


def test_reference_bins_have_no_empty_bin_even_for_few_distinct_values() -> None:
    calls = np.array([0, 0, 1, 1, 1, 2, 2, 3, 4, 9] * 50, dtype=float)
    bins = reference_bins(calls)
    assert bins["cuts"][0] > calls.min()
    assert all(share > 0 for share in bins["fractions"])
    assert sum(bins["fractions"]) == pytest.approx(1.0)
    assert psi.bin_counts([0.0, 1.0, 9.0], bins["cuts"]) == [1, 1] + [0] * (len(bins["cuts"]) - 2) + [1]


def test_quantile_ranks_are_the_positions_numpy_picks() -> None:
    """The SQL reference (training.sagemaker.table_sql) reads the values at these positions of the sorted
    column, so they must be the ones np.quantile(method="higher") would pick, for every size."""
    quantiles = np.arange(1, 10) / 10
    for rows in [1, 2, 3, 9, 10, 11, 99, 100, 101, 1000, 1001, *range(2300, 2400)]:
        expected = np.quantile(np.arange(rows), quantiles, method="higher")
        assert quantile_ranks(rows) == expected.tolist(), rows


def test_training_stores_a_reference_for_every_feature_and_the_score(trained_model_dir: Path) -> None:
    metadata = json.loads((trained_model_dir / "metadata.json").read_text())
    reference = metadata["reference"]
    assert sorted(reference["features"]) == sorted(metadata["features"])
    for item in [*reference["features"].values(), reference["score"]]:
        assert len(item["fractions"]) == len(item["cuts"]) + 1
        assert sum(item["fractions"]) == pytest.approx(1.0, abs=1e-5)
    assert len(reference["score"]["cuts"]) == 9  # a continuous score fills all ten deciles
