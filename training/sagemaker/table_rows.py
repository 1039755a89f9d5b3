"""Training data that stays in Aurora: checked, split, described and exported by SQL, never read here.

Every statement is training.sagemaker.table_sql's, sent to S3 by training.sagemaker.table_export.
What comes back to the launcher is aggregates only: counts (customers per class and part, bad rows
per content rule), the hashes that cut the split, the categories of the one-hot columns, a
fingerprint, order statistics and bin counts for the drift reference. The channels (and the rows to
score) are written by Aurora under the run's tmp/training/ prefix, where the jobs read them; their
labels and scores come back from batch transform jobs, two numbers per customer.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from churnguard.feature_spec import FeatureSpec
from churnguard.lifecycle.psi import bin_of
from training.artifacts import (
    quantile_ranks,
    reference_bins,
    reference_bins_from,
    reference_block,
    reference_cuts,
)
from training.data import DataValidationError
from training.features import feature_spec_from_categories, subset_spec
from training.pipeline import MIN_CHURNERS_PER_PART
from training.sagemaker.jobs import TRAIN, VALIDATION, LaunchSettings
from training.sagemaker.package import HeldOut, ScoredModel
from training.sagemaker.table_export import TableExporter
from training.sagemaker.table_sql import (
    CONTENT_RULES,
    FACT_COLUMNS,
    FINGERPRINT_CHUNKS,
    PARTS,
    SplitCuts,
    SplitPositions,
    categories_sql,
    channel_sql,
    one_hot_counts_sql,
    order_statistics_sql,
    part_counts_sql,
    position_params,
    split_cuts_sql,
    table_facts_sql,
    table_fingerprint,
    train_bin_counts_sql,
)
from training.sagemaker.transform import SCORED_PARTS, score_folder

SOURCE = "table customers (rows stayed in Aurora)"
SPLIT_RULE = (
    "stratified by churn in Aurora: each class ordered by the first 60 bits of "
    "SHA-256('<seed>/<area_code>/<phone>'), first 10% test, next 20% validation"
)
FINGERPRINT_RULE = (
    "sha256 over the labelled row count and the XOR of each labelled row's SHA-256 (computed in Aurora)"
)


class TableContentError(DataValidationError):
    """The customers table holds rows that local loading would refuse or will_churn would score as
    neither value of a plan; each problem names the rule, the rows' count and how to find and fix them."""


@dataclass(frozen=True)
class PartSize:
    customers: int
    churners: int


class TableRows:
    """The deployed customers table as a SageMaker run's data (RunData), for one run and seed."""

    scores_here_possible = False

    def __init__(self, exporter: TableExporter, settings: LaunchSettings, *, seed: int) -> None:
        self.exporter, self.settings, self.seed = exporter, settings, seed
        self.cuts = SplitCuts(seed, {}, {})
        self.sizes: dict[str, PartSize] = {}
        self.facts: dict[str, int] = {}

    def _aggregate(
        self, name: str, sql: str, params: dict[str, Any], columns: Sequence[str], what: str
    ) -> list[dict[str, str | None]]:
        key = f"{self.settings.table_prefix}aggregates/{name}"
        rows = self.exporter.rows(sql, params, key, what)
        for row in rows:
            if len(row) != len(columns):
                raise ValueError(f"{what}: {len(row)} values in a row of s3://{self.settings.bucket}/{key}")
        return [dict(zip(columns, row, strict=True)) for row in rows]

    def prepare(self) -> FeatureSpec:
        (facts,) = self._aggregate("facts", table_facts_sql(), {}, FACT_COLUMNS, "the table's counts")
        self.facts = {name: int(value or 0) for name, value in facts.items()}
        self._check_content()
        positions = SplitPositions.for_classes({0: self.facts["stayed"], 1: self.facts["churned"]})
        cut_rows = self._aggregate(
            "split-cuts",
            split_cuts_sql(),
            positions.params(self.seed),
            ("churn", "position", "key_hash"),
            "the split's cut points",
        )
        self.cuts = SplitCuts.from_rows(self.seed, positions, cut_rows)
        self._count_parts()
        categories: dict[str, list[str]] = {}
        for row in self._aggregate(
            "categories", categories_sql(), self.cuts.params(), ("source", "value"), "the categories"
        ):
            categories.setdefault(str(row["source"]), []).append(str(row["value"]))
        return feature_spec_from_categories(categories)

    def _check_content(self) -> None:
        problems = [
            f"{rule.problem}: {self.facts['bad_' + rule.name]} customer(s); find them with SELECT "
            f"c.area_code, c.phone FROM customers AS c WHERE c.churn IS NOT NULL AND ({rule.bad}); "
            f"fix with {rule.fix}"
            for rule in CONTENT_RULES
            if self.facts["bad_" + rule.name]
        ]
        if not problems and not (self.facts["stayed"] + self.facts["churned"]):
            problems.append(
                f"no customer rows with a known churn (0 or 1): {self.facts['customers']} customer(s), "
                f"{self.facts['unlabelled']} of them with churn NULL (not known yet)"
            )
        if problems:
            raise TableContentError("table customers", problems)

    def _count_parts(self) -> None:
        counts = {(part, churn): 0 for part in PARTS for churn in (0, 1)}
        for row in self._aggregate(
            "part-counts",
            part_counts_sql(),
            self.cuts.params(),
            ("part", "churn", "customers"),
            "the parts' sizes",
        ):
            counts[(str(row["part"]), int(row["churn"] or 0))] = int(row["customers"] or 0)
        self.sizes = {
            part: PartSize(counts[(part, 0)] + counts[(part, 1)], counts[(part, 1)]) for part in PARTS
        }
        for part, size in self.sizes.items():
            if size.churners < MIN_CHURNERS_PER_PART or size.churners == size.customers:
                raise TableContentError(
                    "table customers",
                    [
                        f"the {part} part has {size.churners} churners among {size.customers} customers: "
                        f"need at least {MIN_CHURNERS_PER_PART} churners and some non-churners in each "
                        "part (train on more customers)"
                    ],
                )

    def rows(self) -> int:
        return self.facts["stayed"] + self.facts["churned"]

    def stage(self, spec: FeatureSpec, *, reduced: bool, batch: bool) -> None:
        """Aurora writes the channels and the rows to score: one statement per file prefix."""
        root = self.settings.channel_prefix
        prefix = "reduced-" if reduced else ""
        shards = self.settings.instance_count
        for shard in range(shards):
            params = {**self.cuts.params(), **({"shards": shards, "shard": shard} if shards > 1 else {})}
            self.exporter.export(
                channel_sql(spec, TRAIN, sharded=shards > 1),
                params,
                f"{root}{prefix}{TRAIN}/part-{shard:05d}",
                f"the {prefix}train channel ({shard + 1} of {shards})",
            )
        self.exporter.export(
            channel_sql(spec, VALIDATION),
            self.cuts.params(),
            f"{root}{prefix}{VALIDATION}/part-00000",
            f"the {prefix}validation channel",
        )
        for part in SCORED_PARTS:
            self.exporter.export(
                channel_sql(spec, part),
                self.cuts.params(),
                f"{root}{score_folder(reduced)}/{part}",
                f"the {part} rows to score ({prefix or 'full '}features)",
            )

    def scores_here(self, booster: Any, spec: FeatureSpec) -> None:
        return None  # the rows are in Aurora: only a batch transform job scores them

    def check_labels(self, part: str, churn: np.ndarray, source: str) -> None:
        size = self.sizes[part]  # train, validation or test
        if len(churn) != size.customers or int(churn.sum()) != size.churners:
            raise ValueError(
                f"{source}: {len(churn)} rows with {int(churn.sum())} churners came back, but the {part} "
                f"part has {size.customers} customers and {size.churners} churners"
            )

    def held_out(self, validation_churn: np.ndarray, test_churn: np.ndarray) -> HeldOut:
        labelled = self.rows()
        chunks = [self.facts[f"fingerprint_{number}"] for number in range(FINGERPRINT_CHUNKS)]
        return HeldOut(
            validation_churn,
            test_churn,
            {
                "fingerprint": table_fingerprint(labelled, chunks),
                "fingerprint_rule": FINGERPRINT_RULE,
                "rows": labelled,
                "churn_rate": round(self.facts["churned"] / labelled, 6),
                "split": "project",
                "split_rule": SPLIT_RULE,
                "train_rows": self.sizes["train"].customers,
                "validation_rows": self.sizes["validation"].customers,
                "test_rows": self.sizes["test"].customers,
                "unlabelled_rows_left_out": self.facts["unlabelled"],
            },
        )

    def reference(
        self, name: str, model: ScoredModel, train_scores: Callable[[], np.ndarray]
    ) -> dict[str, Any]:
        """Each feature's reference bins counted by Aurora over the train part (order statistics
        for the cuts, then bin counts), and the score's from the model's scores of those rows."""
        spec = model.spec
        rows = self.sizes["train"].customers
        numeric = subset_spec(spec, {f.name for f in spec.features if f.kind != "one_hot"})
        one_hot = subset_spec(spec, {f.name for f in spec.features if f.kind == "one_hot"})
        bins = {**self._numeric_bins(numeric, rows), **self._one_hot_bins(one_hot, rows)}
        return reference_block(
            {feature: bins[feature] for feature in spec.names}, reference_bins(train_scores())
        )

    def _numeric_bins(self, spec: FeatureSpec, rows: int) -> dict[str, dict[str, Any]]:
        if not spec.features:
            return {}
        positions = sorted({0, *quantile_ranks(rows)})
        values: dict[int, dict[int, float]] = {index: {} for index in range(len(spec.features))}
        for row in self._aggregate(
            "order-statistics",
            order_statistics_sql(spec, positions),
            {**self.cuts.params(), **position_params(positions)},
            ("feature", "position", "value"),
            "the reference's order statistics",
        ):
            values[int(str(row["feature"]))][int(str(row["position"]))] = float(str(row["value"]))
        cuts = {
            name: reference_cuts(rows, values[index].__getitem__) for index, name in enumerate(spec.names)
        }
        counts: dict[int, dict[int, int]] = {index: {} for index in range(len(spec.features))}
        for row in self._aggregate(
            "reference-bins",
            train_bin_counts_sql(spec, cuts),
            self.cuts.params(),
            ("feature", "bucket", "customers"),
            "the reference's bin counts",
        ):
            counts[int(str(row["feature"]))][int(str(row["bucket"]))] = int(str(row["customers"]))
        return {
            name: reference_bins_from(
                rows,
                values[index].__getitem__,
                lambda found, index=index: [counts[index].get(b, 0) for b in range(len(found) + 1)],
            )
            for index, name in enumerate(spec.names)
        }

    def _one_hot_bins(self, spec: FeatureSpec, rows: int) -> dict[str, dict[str, Any]]:
        """A 0/1 column's bins from how many rows have it: its sorted values are the zeros, then the ones."""
        if not spec.features:
            return {}
        columns = [f"ones_{index}" for index in range(len(spec.features))]
        (counted,) = self._aggregate(
            "one-hot-counts", one_hot_counts_sql(spec), self.cuts.params(), columns, "the one-hot counts"
        )
        bins = {}
        for name, column in zip(spec.names, columns, strict=True):
            ones = int(str(counted[column]))

            def count(cuts: list[float], ones: int = ones) -> list[int]:
                counts = [0] * (len(cuts) + 1)
                counts[bin_of(0.0, cuts)] += rows - ones
                counts[bin_of(1.0, cuts)] += ones
                return counts

            bins[name] = reference_bins_from(
                rows, lambda rank, ones=ones: 0.0 if rank < rows - ones else 1.0, count
            )
        return bins
