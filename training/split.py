"""Train / validation / test splits: the project's stratified one and the reference's shuffle rule."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from sklearn.model_selection import StratifiedKFold, train_test_split

SplitRule = Literal["project", "reference"]
SPLIT_RULES: tuple[str, ...] = ("project", "reference")
TRAIN_SHARE, VALIDATION_SHARE, TEST_SHARE = 0.7, 0.2, 0.1
REFERENCE_SHUFFLE_SEED = 1729


@dataclass(frozen=True)
class Split:
    """Row positions (into the customer table) of each part."""

    train: np.ndarray
    validation: np.ndarray
    test: np.ndarray


def stratified_split(churn: np.ndarray, seed: int) -> Split:
    """70/20/10 with the churn rate kept equal in every part, so a small test set is not churner-poor."""
    positions = np.arange(len(churn))
    # Whole row counts, so float shares cannot shift a row between parts (0.2 / 0.9 is not exact).
    test_rows, validation_rows = round(TEST_SHARE * len(churn)), round(VALIDATION_SHARE * len(churn))
    rest, test = train_test_split(positions, test_size=test_rows, stratify=churn, random_state=seed)
    train, validation = train_test_split(
        rest, test_size=validation_rows, stratify=churn[rest], random_state=seed
    )
    return Split(np.sort(train), np.sort(validation), np.sort(test))


def reference_split(customers: pd.DataFrame) -> Split:
    """The reference notebook's rule: shuffle with pandas (random_state=1729), cut at 70% and 90%.

    Kept so results compare with the reference's on the very same 334 test customers.
    """
    shuffled = customers.reset_index(drop=True).sample(frac=1, random_state=REFERENCE_SHUFFLE_SEED).index
    order = np.asarray(shuffled)
    first, second = int(TRAIN_SHARE * len(order)), int((TRAIN_SHARE + VALIDATION_SHARE) * len(order))
    return Split(order[:first], order[first:second], order[second:])


def split_customers(customers: pd.DataFrame, rule: SplitRule, seed: int) -> Split:
    if rule == "project":
        return stratified_split(customers["churn"].astype(bool).to_numpy(), seed)
    if rule == "reference":
        return reference_split(customers)
    raise ValueError(f"unknown split rule {rule!r}: use one of {', '.join(SPLIT_RULES)}")


def stratified_folds(churn: np.ndarray, folds: int, seed: int) -> tuple[np.ndarray, ...]:
    """The held-out row positions of each of `folds` stratified, seeded folds (each row in exactly one).

    Stratified like the split, so every fold holds its share of the churners and its AUC and cost mean
    the same thing.
    """
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    return tuple(np.sort(held_out) for _, held_out in splitter.split(np.zeros(len(churn)), churn))
