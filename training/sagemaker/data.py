"""Where a SageMaker run's rows are and how its channels get to S3: a table here (a CSV, synthetic
customers) that the launcher splits and uploads, or the Aurora table itself (training.sagemaker.table_rows),
whose rows never come here. The trainer (training.sagemaker.run) talks to either through RunData.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

import numpy as np
import pandas as pd
import xgboost as xgb

from churnguard.feature_spec import FeatureSpec
from training.data import validate_customers
from training.features import build_feature_spec, feature_matrix, labels
from training.sagemaker.jobs import TRAIN, VALIDATION, LaunchSettings, channel_files, csv_bytes
from training.sagemaker.package import HeldOut, ScoredModel, split_data_block, trained_rows_reference
from training.sagemaker.staging import upload
from training.sagemaker.transform import SCORED_PARTS, LabelledScores, score_folder
from training.split import Split, SplitRule, split_customers


class RunData(Protocol):
    """What the trainer needs from the rows, wherever they are."""

    # Whether the rows are on this machine, so that scores_here can score them.
    scores_here_possible: bool

    def prepare(self) -> FeatureSpec:
        """Check and split the rows; the full feature spec (categories of the non-test rows)."""
        ...

    def rows(self) -> int: ...

    def stage(self, spec: FeatureSpec, *, reduced: bool, batch: bool) -> None:
        """Put the train and validation channels in `spec`'s columns where the jobs read them (and,
        with `batch`, the validation and test rows to score under the score folder)."""
        ...

    def scores_here(self, booster: xgb.Booster, spec: FeatureSpec) -> dict[str, LabelledScores] | None:
        """Validation and test labels and scores from this machine, or None when the rows are not here."""
        ...

    def check_labels(self, part: str, churn: np.ndarray, source: str) -> None:
        """Refuse labels a transform job sent back for `part` if they are not the part's rows."""
        ...

    def held_out(self, validation_churn: np.ndarray, test_churn: np.ndarray) -> HeldOut: ...

    def reference(
        self, name: str, model: ScoredModel, train_scores: Callable[[], np.ndarray]
    ) -> dict[str, Any]:
        """metadata.json's `reference` for the chosen model; `train_scores` scores its train rows
        with a batch transform job, for rows that are not here."""
        ...


class RowsHere:
    """A customer table on this machine: validated, split and uploaded by the launcher."""

    scores_here_possible = True

    def __init__(
        self,
        load: Callable[[], pd.DataFrame],
        s3: Any,
        settings: LaunchSettings,
        *,
        split: SplitRule,
        seed: int,
    ) -> None:
        self._load, self.s3, self.settings, self.split_rule, self.seed = load, s3, settings, split, seed
        self.customers = pd.DataFrame()
        self.parts = Split(np.array([]), np.array([]), np.array([]))

    def prepare(self) -> FeatureSpec:
        self.customers = validate_customers(self._load()).reset_index(drop=True)
        self.parts = split_customers(self.customers, self.split_rule, self.seed)
        return build_feature_spec(
            self.customers.iloc[np.sort(np.concatenate([self.parts.train, self.parts.validation]))]
        )

    def rows(self) -> int:
        return len(self.customers)

    def _rows_of(self, part: str) -> np.ndarray:
        return {"train": self.parts.train, "validation": self.parts.validation, "test": self.parts.test}[part]

    def stage(self, spec: FeatureSpec, *, reduced: bool, batch: bool) -> None:
        rows = {TRAIN: self.parts.train, VALIDATION: self.parts.validation}
        files = channel_files(self.customers, spec, rows, shards=self.settings.instance_count)
        if reduced:
            files = {f"reduced-{name}": body for name, body in files.items()}
        if batch:
            matrix = np.column_stack([labels(self.customers), feature_matrix(self.customers, spec)])
            for part in SCORED_PARTS:
                files[f"{score_folder(reduced)}/{part}.csv"] = csv_bytes(matrix[self._rows_of(part)])
        upload(self.s3, self.settings, files)

    def scores_here(self, booster: xgb.Booster, spec: FeatureSpec) -> dict[str, LabelledScores]:
        churn = labels(self.customers)
        scores = {}
        for part in SCORED_PARTS:
            rows = self._rows_of(part)
            matrix = feature_matrix(self.customers.iloc[rows], spec)
            scores[part] = LabelledScores(
                churn[rows], booster.predict(xgb.DMatrix(matrix, feature_names=spec.names))
            )
        return scores

    def check_labels(self, part: str, churn: np.ndarray, source: str) -> None:
        expected = labels(self.customers)[self._rows_of(part)]
        if len(churn) != len(expected):
            raise ValueError(f"{source}: {len(churn)} predictions for {len(expected)} rows sent")
        if not np.array_equal(churn, expected):
            raise ValueError(f"{source}: the labels that came back are not the rows sent, in their order")

    def held_out(self, validation_churn: np.ndarray, test_churn: np.ndarray) -> HeldOut:
        return HeldOut(
            validation_churn,
            test_churn,
            split_data_block(self.customers, self.parts, self.split_rule),
            self.customers.iloc[self.parts.test],
        )

    def reference(
        self, name: str, model: ScoredModel, train_scores: Callable[[], np.ndarray]
    ) -> dict[str, Any]:
        return trained_rows_reference(self.customers.iloc[self.parts.train], model)
