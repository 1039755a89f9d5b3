"""Per-customer churn drivers: which features pushed one customer's churn score up or down, and by how much.

Computed in pure Python from the trees in the model's `model.json`, because the recommend Lambda ships
without xgboost or numpy. The attribution is Saabas's path method, the one xgboost itself returns for
`Booster.predict(..., pred_contribs=True, approx_contribs=True)`: walking each tree from the root to the
customer's leaf, every split hands the change in the expected tree output to the feature it tested.
The contributions are in log-odds (margin) space and add up, with the bias, to the model's margin, so
`sigmoid(sum)` is the churn probability the model gives.

A driver is a group of features that read the same customer columns (churnguard.driver_groups): the
usage features (minutes, their totals and charges) are correlated, and their contributions only read
the right way round added together. A group's contribution is the exact sum of its features', so the
drivers still add up, with the bias, to the margin; each driver lists its features' own shares.
"""

from __future__ import annotations

import json
import math
import struct
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from churnguard.driver_groups import DriverGroup, group_features
from churnguard.feature_spec import FeatureSpec, check_feature_order
from churnguard.model_folder import ModelFolder

DEFAULT_TOP_DRIVERS = 5
# xgboost marks "no child" with -1 in its JSON arrays.
_NO_CHILD = -1


class ModelFileError(ValueError):
    """model.json is missing, not an xgboost JSON model, or a kind of model the drivers cannot explain."""


def as_float32(value: float) -> float:
    """Round a number to the nearest float32, as xgboost stores split thresholds and feature values.

    Comparing the rounded values in double precision gives exactly xgboost's float32 comparison, so a
    customer whose value sits on a threshold goes down the same branch here as in xgboost.
    """
    return struct.unpack("f", struct.pack("f", value))[0]


@dataclass(frozen=True)
class Tree:
    """One regression tree in array form, with each node's expected output precomputed."""

    left: tuple[int, ...]
    right: tuple[int, ...]
    split_feature: tuple[int, ...]
    threshold: tuple[float, ...]
    default_left: tuple[bool, ...]
    # The leaf value for leaves; for inner nodes the cover-weighted mean of the leaves below.
    mean_value: tuple[float, ...]

    def add_contributions(self, values: Sequence[float | None], contributions: list[float]) -> None:
        """Add this tree's Saabas contributions for one row to `contributions` (bias in the last slot)."""
        node = 0
        node_value = self.mean_value[0]
        contributions[-1] += node_value
        while self.left[node] != _NO_CHILD:
            feature = self.split_feature[node]
            value = values[feature]
            if value is None:
                child = self.left[node] if self.default_left[node] else self.right[node]
            else:
                child = self.left[node] if value < self.threshold[node] else self.right[node]
            child_value = self.mean_value[child]
            contributions[feature] += child_value - node_value
            node, node_value = child, child_value

    @classmethod
    def from_json(cls, data: Mapping[str, Any], *, position: int) -> Tree:
        try:
            left = tuple(int(child) for child in data["left_children"])
            right = tuple(int(child) for child in data["right_children"])
            split_feature = tuple(int(index) for index in data["split_indices"])
            conditions = [float(condition) for condition in data["split_conditions"]]
            default_left = tuple(bool(flag) for flag in data["default_left"])
            cover = [float(hessian) for hessian in data["sum_hessian"]]
            split_type = [int(kind) for kind in data.get("split_type", [])]
        except (KeyError, TypeError, ValueError) as problem:
            raise ModelFileError(f"tree {position}: not an xgboost JSON tree ({problem!r})") from None
        if any(split_type):
            raise ModelFileError(f"tree {position}: categorical splits are not supported by the drivers")
        if not left or len({len(left), len(right), len(split_feature), len(conditions), len(cover)}) != 1:
            raise ModelFileError(f"tree {position}: its node arrays differ in length")
        return cls(
            left=left,
            right=right,
            split_feature=split_feature,
            threshold=tuple(as_float32(condition) for condition in conditions),
            default_left=default_left,
            mean_value=_node_means(left, right, conditions, cover),
        )


def _node_means(
    left: Sequence[int], right: Sequence[int], conditions: Sequence[float], cover: Sequence[float]
) -> tuple[float, ...]:
    """Each node's expected output: leaves hold their value in `split_conditions`; inner nodes the
    cover-weighted mean of their children, as xgboost's FillNodeMeanValues computes it.

    Children always have larger ids than their parent in xgboost's arrays, so one pass from the last
    node to the first fills children before parents without recursion.
    """
    means = [0.0] * len(left)
    for node in range(len(left) - 1, -1, -1):
        if left[node] == _NO_CHILD:
            means[node] = conditions[node]
        else:
            weighted = means[left[node]] * cover[left[node]] + means[right[node]] * cover[right[node]]
            means[node] = weighted / cover[node]
    return tuple(means)


@dataclass(frozen=True)
class TreeEnsemble:
    """A binary:logistic gradient-boosted tree model read from xgboost's JSON format."""

    trees: tuple[Tree, ...]
    base_margin: float
    feature_count: int
    feature_names: tuple[str, ...]

    @classmethod
    def from_file(cls, path: str | Path) -> TreeEnsemble:
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ModelFileError(f"{path}: no such model file (expected xgboost's model.json)") from None
        except (OSError, ValueError) as problem:
            raise ModelFileError(f"{path}: cannot read it as JSON ({problem})") from None
        return cls.from_document(data, path)

    @classmethod
    def from_document(cls, data: Mapping[str, Any], path: str | Path) -> TreeEnsemble:
        """The trees of model.json already parsed (ModelFolder's), errors naming the file."""
        try:
            return cls.from_json(data)
        except ModelFileError as problem:
            raise ModelFileError(f"{path}: {problem}") from None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> TreeEnsemble:
        try:
            learner = data["learner"]
            objective = learner["objective"]["name"]
            booster = learner["gradient_booster"]
            params = learner["learner_model_param"]
        except (KeyError, TypeError):
            raise ModelFileError("not an xgboost JSON model (no learner/gradient_booster)") from None
        if objective != "binary:logistic":
            raise ModelFileError(f"objective {objective!r}: only binary:logistic models are explained")
        if booster.get("name") != "gbtree":
            raise ModelFileError(f"booster {booster.get('name')!r}: only gbtree models are explained")
        base_score = _parse_base_score(params.get("base_score"))
        if not 0.0 < base_score < 1.0:
            raise ModelFileError(f"base_score {base_score} is not a probability strictly between 0 and 1")
        trees = tuple(
            Tree.from_json(tree, position=position) for position, tree in enumerate(booster["model"]["trees"])
        )
        feature_count = int(params.get("num_feature", 0))
        for position, tree in enumerate(trees):
            if any(index >= feature_count for index in tree.split_feature):
                raise ModelFileError(
                    f"tree {position} splits on a feature beyond num_feature={feature_count}"
                )
        return cls(
            trees=trees,
            base_margin=math.log(base_score / (1.0 - base_score)),
            feature_count=feature_count,
            feature_names=tuple(learner.get("feature_names") or ()),
        )

    def contributions(self, values: Sequence[float | None]) -> list[float]:
        """Per-feature contributions in log-odds, plus the bias as the last element.

        `values` are the model inputs in model order; None means missing (xgboost's default branch).
        """
        if len(values) != self.feature_count:
            raise ValueError(f"the model takes {self.feature_count} features, {len(values)} were given")
        rounded = [None if value is None or math.isnan(value) else as_float32(value) for value in values]
        contributions = [0.0] * (self.feature_count + 1)
        contributions[-1] = self.base_margin
        for tree in self.trees:
            tree.add_contributions(rounded, contributions)
        return contributions

    def probability(self, values: Sequence[float | None]) -> float:
        """The model's churn probability, from the same walk (the contributions add up to the margin)."""
        return probability_of(self.contributions(values))


def probability_of(contributions: Sequence[float]) -> float:
    """The churn probability the contributions (bias included) add up to: sigmoid of their sum."""
    return 1.0 / (1.0 + math.exp(-math.fsum(contributions)))


def _parse_base_score(raw: Any) -> float:
    """base_score is a string: "5E-1" in xgboost 3.0, "[5E-1]" (one per target) from 3.1 on."""
    text = str(raw).strip()
    if text.startswith("[") and text.endswith("]"):
        parts = [part for part in text[1:-1].split(",") if part.strip()]
        if len(parts) != 1:
            raise ModelFileError(f"base_score {text!r}: expected exactly one value (one target)")
        text = parts[0]
    try:
        return float(text)
    except ValueError:
        raise ModelFileError(f"base_score {raw!r} is not a number") from None


@dataclass(frozen=True)
class DriverShare:
    """One feature's part of a driver: its contribution (log-odds) and the value the model saw."""

    feature: str
    contribution: float
    value: float

    def to_json(self) -> dict[str, Any]:
        return {
            "feature": self.feature,
            "contribution": round(self.contribution, 6),
            "value": round(self.value, 6),
        }


@dataclass(frozen=True)
class Driver:
    """One push on a customer's churn score: a feature, or a group of features read together.

    `contribution` is in log-odds: positive raises the churn probability, negative lowers it; for a
    group, the sum of its `members`' contributions. `value` is what the model saw for a single
    feature (None for a group: see `members`); `columns` the customer's own column values it came from.
    """

    feature: str
    contribution: float
    value: float | None
    columns: dict[str, Any]
    label: str = ""
    members: tuple[DriverShare, ...] = ()
    # The label with the customer's values, e.g. "minutes and charges (day 335.4, evening 290.2)".
    words: str = ""

    @property
    def effect(self) -> str:
        return "raises churn risk" if self.contribution > 0 else "lowers churn risk"

    def text(self) -> str:
        """The driver as an agent reads it: 'customer service calls 6: raises churn risk'."""
        return f"{self.words or self.feature}: {self.effect}"

    def to_json(self) -> dict[str, Any]:
        return {
            "feature": self.feature,
            "contribution": round(self.contribution, 6),
            "effect": self.effect,
            "value": None if self.value is None else round(self.value, 6),
            "columns": self.columns,
            "label": self.label or self.feature,
            "text": self.text(),
            # Features that did not move this customer's score (e.g. the other states) are left out.
            "members": [member.to_json() for member in self.members if member.contribution != 0.0],
        }


class DriverExplainer:
    """Explains scores of one trained model: its feature spec (metadata.json) with its trees (model.json)."""

    def __init__(self, spec: FeatureSpec, ensemble: TreeEnsemble) -> None:
        if ensemble.feature_count != len(spec.features):
            raise ModelFileError(
                f"model.json takes {ensemble.feature_count} features, the feature spec lists "
                f"{len(spec.features)}"
            )
        if ensemble.feature_names:
            check_feature_order(spec.names, ensemble.feature_names, what="feature spec vs model.json")
        self.spec = spec
        self.ensemble = ensemble
        self.groups: tuple[DriverGroup, ...] = group_features(spec)

    @classmethod
    def from_model_dir(cls, model_dir: str | Path) -> DriverExplainer:
        """Load a training run's output folder (metadata.json + model.json), checked by ModelFolder."""
        return cls.from_folder(ModelFolder.read(model_dir))

    @classmethod
    def from_folder(cls, folder: ModelFolder) -> DriverExplainer:
        return cls(
            folder.feature_spec, TreeEnsemble.from_document(folder.model_document, folder.model_json_path)
        )

    def contributions(self, customer: Mapping[str, Any]) -> dict[str, float]:
        """Every feature's contribution for one customer row, plus "bias", in log-odds."""
        contributions = self.ensemble.contributions(self.spec.values_for(customer))
        return {**dict(zip(self.spec.names, contributions, strict=False)), "bias": contributions[-1]}

    def top_drivers(self, customer: Mapping[str, Any], *, top: int = DEFAULT_TOP_DRIVERS) -> list[Driver]:
        """The `top` drivers with the largest absolute contribution, largest first."""
        return self.explain(customer, top=top)[0]

    def all_drivers(self, customer: Mapping[str, Any]) -> tuple[list[Driver], float]:
        """Every driver (group of features), including those that did not move the score, and the bias."""
        values = self.spec.values_for(customer)
        contributions = self.ensemble.contributions(values)
        return [self._driver(group, values, contributions, customer) for group in self.groups], contributions[
            -1
        ]

    def explain(
        self, customer: Mapping[str, Any], *, top: int = DEFAULT_TOP_DRIVERS
    ) -> tuple[list[Driver], float]:
        """The top drivers and the churn probability the trees give, from one walk of the trees.

        Drivers whose features did not move the score (all contributions 0) are left out. Ties keep
        model order, so the list is the same on every run.
        """
        if top < 1:
            raise ValueError("top must be at least 1")
        values = self.spec.values_for(customer)
        contributions = self.ensemble.contributions(values)
        probability = probability_of(contributions)
        totals = [
            (math.fsum(contributions[position] for position in group.positions), group)
            for group in self.groups
            if any(contributions[position] != 0.0 for position in group.positions)
        ]
        totals.sort(key=lambda item: -abs(item[0]))
        drivers = [self._driver(group, values, contributions, customer) for _, group in totals[:top]]
        return drivers, probability

    def _driver(
        self,
        group: DriverGroup,
        values: Sequence[float],
        contributions: Sequence[float],
        customer: Mapping[str, Any],
    ) -> Driver:
        members = sorted(
            (
                DriverShare(self.spec.features[position].name, contributions[position], values[position])
                for position in group.positions
            ),
            key=lambda share: -abs(share.contribution),
        )
        columns = {column: _plain(customer[column]) for column in group.columns}
        return Driver(
            feature=group.key,
            contribution=math.fsum(contributions[position] for position in group.positions),
            value=values[group.positions[0]] if len(group.positions) == 1 else None,
            columns=columns,
            label=group.label,
            members=tuple(members),
            words=group.words(columns),
        )


def _plain(value: Any) -> Any:
    """A column value as JSON can hold it (SQL drivers return DECIMAL columns as Decimal)."""
    if isinstance(value, Decimal):
        return float(value)
    return value
