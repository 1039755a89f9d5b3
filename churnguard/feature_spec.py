"""The model's feature spec: the ordered features it expects and how each comes from a customer row.

Training writes it into metadata.json next to the model; the SQL generator renders `will_churn(...)`,
the one-hot helpers and the call-centre statement from it; the engine uses it to explain a score.
It is the single source of the feature order, so nothing downstream types the list again.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from churnguard.customer_schema import COLUMN_NAMES, LABEL_COLUMN

FeatureKind = Literal["numeric", "one_hot", "sum"]
FEATURE_KINDS: tuple[str, ...] = ("numeric", "one_hot", "sum")

# Columns that identify a customer or are the label: never a model input.
NOT_FEATURE_SOURCES = frozenset({"phone", LABEL_COLUMN})


class FeatureSpecError(ValueError):
    """The feature spec is malformed, or disagrees with the model or the SQL it is used with."""


@dataclass(frozen=True)
class Feature:
    """One model input.

    kind "numeric": the value of column `source`.
    kind "one_hot": 1 when column `source` equals `value` (compared as text), else 0.
    kind "sum": the sum of the columns in `sources`, added in that order.
    """

    name: str
    kind: FeatureKind
    source: str | None = None
    value: str | None = None
    sources: tuple[str, ...] = field(default_factory=tuple)

    def source_columns(self) -> tuple[str, ...]:
        """The customer columns this feature reads."""
        return self.sources if self.kind == "sum" else (str(self.source),)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["sources"] = list(self.sources)
        return {key: value for key, value in data.items() if value not in (None, [])}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Feature:
        return cls(
            name=str(data["name"]),
            kind=data["kind"],
            source=data.get("source"),
            value=None if data.get("value") is None else str(data["value"]),
            sources=tuple(data.get("sources", ())),
        )


@dataclass(frozen=True)
class FeatureSpec:
    """The ordered list of model inputs."""

    features: tuple[Feature, ...]

    def __post_init__(self) -> None:
        validate_features(self.features)

    @property
    def names(self) -> list[str]:
        return [feature.name for feature in self.features]

    def to_json(self) -> list[dict[str, Any]]:
        return [feature.to_json() for feature in self.features]

    @classmethod
    def from_json(cls, data: Sequence[Mapping[str, Any]]) -> FeatureSpec:
        try:
            return cls(tuple(Feature.from_json(item) for item in data))
        except KeyError as missing:
            raise FeatureSpecError(f"feature spec entry lacks the key {missing}") from None

    def values_for(self, customer: Mapping[str, Any]) -> list[float]:
        """The model inputs for one customer row (a dict of column name to value)."""
        return [feature_value(feature, customer) for feature in self.features]


def feature_value(feature: Feature, customer: Mapping[str, Any]) -> float:
    """One feature's value for one customer row, computed as training computes it."""
    try:
        if feature.kind == "numeric":
            return float(customer[str(feature.source)])
        if feature.kind == "one_hot":
            return 1.0 if str(customer[str(feature.source)]) == feature.value else 0.0
        total = 0.0
        for source in feature.sources:
            total += float(customer[source])
        return total
    except KeyError as missing:
        raise FeatureSpecError(
            f"feature {feature.name!r} needs column {missing}, absent from the row"
        ) from None


def validate_features(features: Sequence[Feature]) -> None:
    """Reject specs that would render wrong SQL: unknown kinds or columns, duplicates, empty sums."""
    seen: set[str] = set()
    for position, feature in enumerate(features):
        where = f"feature {position} ({feature.name!r})"
        if not feature.name.isidentifier():
            raise FeatureSpecError(f"{where}: the name must be an identifier (letters, digits, _)")
        if feature.name in seen:
            raise FeatureSpecError(f"{where}: the name appears twice")
        seen.add(feature.name)
        if feature.kind not in FEATURE_KINDS:
            raise FeatureSpecError(f"{where}: kind {feature.kind!r} is not one of {', '.join(FEATURE_KINDS)}")
        if feature.kind == "sum" and len(feature.sources) < 2:
            raise FeatureSpecError(f"{where}: a sum needs at least two source columns")
        if feature.kind == "one_hot" and feature.value is None:
            raise FeatureSpecError(f"{where}: a one_hot feature needs the value it tests for")
        for column in feature.source_columns():
            if column not in COLUMN_NAMES:
                raise FeatureSpecError(f"{where}: {column!r} is not a customer column")
            if column in NOT_FEATURE_SOURCES:
                raise FeatureSpecError(f"{where}: {column!r} is an identifier or the label, never a feature")


def check_feature_order(expected: Sequence[str], actual: Sequence[str], *, what: str) -> None:
    """Fail, naming the first difference, when two feature lists are not the same list in the same order.

    A model fed its features in another order scores garbage without any error, so every place that
    pairs a feature list with a model (the SQL signature, the endpoint payload) checks with this.
    """
    expected, actual = list(expected), list(actual)
    if expected == actual:
        return
    for position, (want, got) in enumerate(zip(expected, actual, strict=False)):
        if want != got:
            raise FeatureSpecError(
                f"{what}: out of step at position {position}: expected {want!r}, found {got!r}"
            )
    raise FeatureSpecError(f"{what}: out of step: {len(expected)} features expected, {len(actual)} found")
