"""Which model features are explained together, and their names in plain words.

The model sees usage several times over: daytime minutes, the total minutes (which include them) and
the total charge (each charge is its minutes times a fixed price). Trees split on whichever of these
correlated features happens to separate the customers best, so one customer's attribution can hand
+0.9 to total_charge and -0.5 to day_mins: "more daytime use lowers risk", read on its own, is an
artefact of the split, not something the model learned about daytime use. Reported together, the
usage features' contributions add up to what the model says about the customer's usage as a whole,
which is faithful (path attributions add exactly) and reads the right way round.

Features are grouped when they read the same customer columns, counting a charge as its minutes and
voicemail messages as the voicemail plan (no plan, no messages): every one-hot of a column together
(int_plan_no with int_plan_yes), every minutes or charge feature together, every call-count feature
together. The grouping depends only on the feature spec, so the same model always gives the same
groups. Standard library only: it runs in the recommend Lambda.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from churnguard.feature_spec import Feature, FeatureSpec

# Columns that measure the same thing as another column, for grouping.
SAME_QUANTITY: dict[str, str] = {
    "day_charge": "day_mins",
    "eve_charge": "eve_mins",
    "night_charge": "night_mins",
    "intl_charge": "intl_mins",
    "vmail_msg": "vmail_plan",
}
MINUTES_COLUMNS: tuple[str, ...] = ("day_mins", "eve_mins", "night_mins", "intl_mins")
CALLS_COLUMNS: tuple[str, ...] = ("day_calls", "eve_calls", "night_calls", "intl_calls")
_PERIODS = {"day": "day", "eve": "evening", "night": "night", "intl": "international"}

PLAIN_NAMES: dict[str, str] = {
    "acc_length": "account age (days)",
    "area_code": "area code",
    "state": "state",
    "int_plan": "international plan",
    "vmail_plan": "voicemail plan",
    "vmail_msg": "voicemail messages",
    "cust_service_calls": "customer service calls",
    **{f"{period}_mins": f"{word} minutes" for period, word in _PERIODS.items()},
    **{f"{period}_calls": f"{word} calls" for period, word in _PERIODS.items()},
    **{f"{period}_charge": f"{word} charges" for period, word in _PERIODS.items()},
}


@dataclass(frozen=True)
class DriverGroup:
    """Features explained as one driver: `key` names it in JSON, `label` in words."""

    key: str
    label: str
    positions: tuple[int, ...]
    columns: tuple[str, ...]

    def words(self, values: Mapping[str, Any]) -> str:
        """The group with the customer's values: 'customer service calls 6', 'international plan no',
        'minutes and charges (day 335.4, evening 290.2)'. Charges are left out of the words (each is
        its minutes times a price) but stay in the driver's `columns`."""
        if len(self.columns) == 1:
            return f"{self.label} {values[self.columns[0]]}"
        shown = [column for column in self.columns if not column.endswith("_charge")] or list(self.columns)
        period_columns = set(MINUTES_COLUMNS) | set(CALLS_COLUMNS)
        parts = [
            f"{_PERIODS[column.split('_')[0]]} {values[column]}"
            if column in period_columns
            else f"{PLAIN_NAMES.get(column, column)} {values[column]}"
            for column in shown
        ]
        return f"{self.label} ({', '.join(parts)})"


def _canonical(column: str) -> str:
    return SAME_QUANTITY.get(column, column)


def _column_order(column: str) -> tuple[int, str]:
    """Day, evening, night, international; minutes before their charges; anything else by name."""
    canonical = _canonical(column)
    for order in (MINUTES_COLUMNS, CALLS_COLUMNS):
        if canonical in order:
            return order.index(canonical) + (len(order) if column != canonical else 0), column
    return 0, column


def group_features(spec: FeatureSpec) -> tuple[DriverGroup, ...]:
    """The spec's features in groups (union of features sharing a canonical column), in model order."""
    parent = list(range(len(spec.features)))

    def root(position: int) -> int:
        while parent[position] != position:
            parent[position] = parent[parent[position]]
            position = parent[position]
        return position

    owner: dict[str, int] = {}
    for position, feature in enumerate(spec.features):
        for column in feature.source_columns():
            canonical = _canonical(column)
            if canonical in owner:
                parent[root(position)] = root(owner[canonical])
            else:
                owner[canonical] = position
    members: dict[int, list[int]] = {}
    for position in range(len(spec.features)):
        members.setdefault(root(position), []).append(position)
    groups = []
    for positions in sorted(members.values()):
        features = [spec.features[position] for position in positions]
        columns = tuple(
            sorted(
                dict.fromkeys(column for feature in features for column in feature.source_columns()),
                key=_column_order,
            )
        )
        groups.append(
            DriverGroup(
                key=_key(features, columns),
                label=_label(features, columns),
                positions=tuple(positions),
                columns=columns,
            )
        )
    return tuple(groups)


def _key(features: Sequence[Feature], columns: Sequence[str]) -> str:
    """A single feature keeps its own name; a group is named after what its columns measure."""
    if len(features) == 1:
        return features[0].name
    canonical = list(dict.fromkeys(_canonical(column) for column in columns))
    if set(canonical) <= set(MINUTES_COLUMNS):
        return "minutes_and_charges"
    if set(canonical) <= set(CALLS_COLUMNS):
        return "calls"
    return canonical[0] if len(canonical) == 1 else "_and_".join(canonical)


def _label(features: Sequence[Feature], columns: Sequence[str]) -> str:
    """The driver in plain words: 'international plan', 'minutes and charges', 'calls'."""
    canonical = list(dict.fromkeys(_canonical(column) for column in columns))
    if set(canonical) <= set(MINUTES_COLUMNS) and (len(features) > 1 or features[0].kind == "sum"):
        has_charges = any(column.endswith("_charge") for column in columns)
        return "minutes and charges" if has_charges else "minutes"
    if set(canonical) <= set(CALLS_COLUMNS) and (len(features) > 1 or features[0].kind == "sum"):
        return "calls"
    if len(columns) == 1:
        return PLAIN_NAMES.get(columns[0], columns[0])
    if len(canonical) == 1:
        if set(columns) == {"vmail_plan", "vmail_msg"}:
            return "voicemail plan and messages"
        return PLAIN_NAMES.get(canonical[0], canonical[0])
    return " and ".join(PLAIN_NAMES.get(column, column) for column in canonical)
