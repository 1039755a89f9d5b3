"""Splits: the project's stratified 70/20/10 and the reference's shuffle rule."""

from __future__ import annotations

import numpy as np
import pandas as pd

from training.split import reference_split, split_customers, stratified_folds, stratified_split
from training.synthetic import generate_customers


def test_stratified_split_keeps_the_churn_rate_in_every_part() -> None:
    churn = np.zeros(1_000, dtype=bool)
    churn[::7] = True  # 143 churners
    parts = stratified_split(churn, seed=4)
    assert (len(parts.train), len(parts.validation), len(parts.test)) == (700, 200, 100)
    for rows in (parts.train, parts.validation, parts.test):
        expected = churn.mean() * len(rows)
        assert abs(churn[rows].sum() - expected) <= 1
    every_row = np.concatenate([parts.train, parts.validation, parts.test])
    assert sorted(every_row.tolist()) == list(range(1_000))


def test_stratified_split_is_deterministic_by_seed() -> None:
    churn = np.arange(500) % 6 == 0
    first, again, other = stratified_split(churn, 1), stratified_split(churn, 1), stratified_split(churn, 2)
    assert np.array_equal(first.test, again.test) and np.array_equal(first.train, again.train)
    assert not np.array_equal(first.test, other.test)


def test_reference_split_is_pandas_shuffle_then_70_90_cuts() -> None:
    customers = generate_customers(3_333, seed=9)
    parts = reference_split(customers)
    assert (len(parts.train), len(parts.validation), len(parts.test)) == (2_333, 666, 334)
    shuffled = customers.sample(frac=1, random_state=1729)
    assert list(parts.test) == list(shuffled.index[2_999:])
    assert split_customers(customers, "reference", seed=123).test.tolist() == parts.test.tolist()


def test_reference_split_ignores_a_non_default_index() -> None:
    customers = generate_customers(100, seed=9)
    relabelled = customers.set_axis(pd.RangeIndex(1_000, 1_100))
    assert reference_split(relabelled).test.tolist() == reference_split(customers).test.tolist()


def test_folds_hold_out_every_row_once_with_the_churn_rate_kept() -> None:
    churn = np.arange(1_000) % 7 == 0  # 143 churners
    folds = stratified_folds(churn, 5, seed=3)
    assert len(folds) == 5
    assert sorted(np.concatenate(folds).tolist()) == list(range(1_000))
    for rows in folds:
        assert len(rows) == 200
        assert abs(churn[rows].sum() - churn.mean() * 200) <= 1
    again, other = stratified_folds(churn, 5, seed=3), stratified_folds(churn, 5, seed=4)
    assert all(np.array_equal(first, second) for first, second in zip(folds, again, strict=True))
    assert not np.array_equal(folds[0], other[0])
