"""The statements that train from the customers table while its rows stay in Aurora.

Each statement's result is either aggregates (counts, the categories seen, order statistics, bin
counts, a fingerprint) or a training channel in the built-in algorithm's CSV form (label first, no
header); training.sagemaker.table_export writes each to S3 with SELECT ... INTO OUTFILE S3. The feature values
are rendered from the FeatureSpec by churnguard.sqlgen (the expressions will_churn's bulk call sites
use), so a model trained on these files saw what the deployed SQL computes.

The split ("project" rule, computed in SQL): a labelled customer's key hash is the first 15 hex
digits (60 bits) of SHA-256 of "<seed>/<area_code>/<phone>" (`key_hash`). Within each class
(churned, stayed) customers are ordered by that hash; the first round(10% of the class) are test,
the next round(20% of the class) validation, the rest train. So every part holds its share of each
class (stratified, as the local split), a customer's part depends only on the seed and its key (not
on the row order or on the other customers' values), and the same seed gives the same parts.

Values the launcher computes (the seed, the cut points, the shard numbers, rank positions) are bound
as parameters; only the S3 location is embedded, by training.sagemaker.table_export, as a checked literal.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from churnguard.customer_schema import COLUMN_NAMES
from churnguard.feature_spec import Feature, FeatureSpec
from churnguard.lifecycle.drift import Reference, live_bins_sql
from churnguard.sqlgen.functions import feature_arguments, one_hot_test, quote_identifier
from training.features import ONE_HOT_COLUMNS
from training.split import TEST_SHARE, VALIDATION_SHARE

LABELLED = "c.churn IS NOT NULL"
KEY_HASH_HEX_DIGITS = 15
# Above every 60-bit key hash: the cut of a part that takes all of a class.
ABOVE_EVERY_HASH = 16**KEY_HASH_HEX_DIGITS
KEY_HASH_SQL = (
    f"CAST(CONV(SUBSTRING(SHA2(CONCAT_WS('/', %(seed)s, c.area_code, c.phone), 256), 1, "
    f"{KEY_HASH_HEX_DIGITS}), 16, 10) AS UNSIGNED)"
)
PARTS = ("train", "validation", "test")
CLASSES = (0, 1)
FINGERPRINT_CHUNKS = 4


def key_hash(seed: int, area_code: int, phone: str) -> int:
    """KEY_HASH_SQL in Python: the documented split rule, for readers and tests."""
    digest = hashlib.sha256(f"{seed}/{area_code}/{phone}".encode()).hexdigest()
    return int(digest[:KEY_HASH_HEX_DIGITS], 16)


def _plan_is(column: str, value: str) -> str:
    return one_hot_test(Feature(name=f"{column}_{value}", kind="one_hot", source=column, value=value), column)


@dataclass(frozen=True)
class ContentRule:
    """A check of the table's content that the schema does not enforce; `bad` selects offending rows."""

    name: str
    bad: str
    problem: str
    fix: str


# What training.data checks on every row and sql/10_schema.sql does not already guarantee: the
# types, NOT NULL, the key's uniqueness, the phone format and plans equal to yes/no ignoring case
# are the schema's. The plans are checked byte for byte here because will_churn's one-hot compares
# them so: 'YES' or 'no ' would pass the schema's CHECK and score as neither value.
CONTENT_RULES: tuple[ContentRule, ...] = (
    ContentRule(
        "churn",
        "c.churn NOT IN (0, 1)",
        "churn is neither 0 nor 1 (a TINYINT(1) column also stores -128..127)",
        "UPDATE customers SET churn = NULL WHERE churn NOT IN (0, 1)  -- or the right label",
    ),
    ContentRule(
        "state",
        "NOT (CHAR_LENGTH(c.state) = 2 AND ASCII(c.state) BETWEEN 65 AND 90"
        " AND ASCII(SUBSTRING(c.state, 2)) BETWEEN 65 AND 90)",
        "state is not a two-letter upper-case state code",
        "UPDATE customers SET state = UPPER(TRIM(state))",
    ),
    *(
        ContentRule(
            column,
            f"{_plan_is(f'c.{column}', 'yes')} + {_plan_is(f'c.{column}', 'no')} = 0",
            f"{column} is not exactly 'yes' or 'no' (will_churn compares it byte for byte)",
            f"UPDATE customers SET {column} = LOWER(TRIM({column}))",
        )
        for column in ("int_plan", "vmail_plan")
    ),
)


def _row_hash_chunk(number: int) -> str:
    start = 1 + 16 * number
    return f"BIT_XOR(CAST(CONV(SUBSTRING(c.row_sha, {start}, 16), 16, 10) AS UNSIGNED))"


# The columns of table_facts_sql's one row, in order, and what each counts.
_FACTS: tuple[tuple[str, str], ...] = (
    ("customers", "COUNT(*)"),
    ("unlabelled", f"COALESCE(SUM(NOT ({LABELLED})), 0)"),
    ("stayed", "COALESCE(SUM(c.churn = 0), 0)"),
    ("churned", "COALESCE(SUM(c.churn = 1), 0)"),
    *((f"bad_{rule.name}", f"COALESCE(SUM({LABELLED} AND ({rule.bad})), 0)") for rule in CONTENT_RULES),
    *((f"fingerprint_{number}", _row_hash_chunk(number)) for number in range(FINGERPRINT_CHUNKS)),
)
FACT_COLUMNS: tuple[str, ...] = tuple(name for name, _ in _FACTS)


def table_facts_sql() -> str:
    """One row (FACT_COLUMNS): customers by class, unlabelled ones, bad rows per CONTENT_RULES, and
    the fingerprint chunks (the XOR over labelled customers of their rows' SHA-256, as four 64-bit
    numbers)."""
    row_text = "CONCAT_WS(',', " + ", ".join(f"c.{quote_identifier(name)}" for name in COLUMN_NAMES) + ")"
    columns = ", ".join(f"{expression} AS {quote_identifier(name)}" for name, expression in _FACTS)
    return (
        f"SELECT {columns} FROM (SELECT c.*, "
        f"IF({LABELLED}, SHA2({row_text}, 256), NULL) AS row_sha FROM customers AS c) AS c"
    )


def table_fingerprint(labelled: int, chunks: Sequence[int]) -> str:
    """metadata's data.fingerprint for a table fingerprinted in SQL (table_facts_sql): sha256 over
    the labelled row count and the XOR of their rows' SHA-256. It does not depend on the row order;
    it is not the CSV fingerprint of training.artifacts (the same rows read from a file give another)."""
    text = f"churnguard-table-v1:{labelled}:" + "".join(f"{chunk:016x}" for chunk in chunks)
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class SplitPositions:
    """1-based positions, in key-hash order within each class, of the first validation customer and
    of the first train customer; a position past the class's end means no customer starts there."""

    first_validation: dict[int, int]
    first_train: dict[int, int]

    @classmethod
    def for_classes(cls, sizes: Mapping[int, int]) -> SplitPositions:
        test = {label: round(TEST_SHARE * sizes[label]) for label in CLASSES}
        validation = {label: round(VALIDATION_SHARE * sizes[label]) for label in CLASSES}
        return cls(
            first_validation={label: test[label] + 1 for label in CLASSES},
            first_train={label: test[label] + validation[label] + 1 for label in CLASSES},
        )

    def params(self, seed: int) -> dict[str, int]:
        return {
            "seed": seed,
            **{f"first_validation_{label}": self.first_validation[label] for label in CLASSES},
            **{f"first_train_{label}": self.first_train[label] for label in CLASSES},
        }


def split_cuts_sql() -> str:
    """(churn, position, key_hash) of the customers at SplitPositions: the hashes that cut the parts."""
    wanted = " OR ".join(
        f"(r.churn = {label} AND r.position IN (%(first_validation_{label})s, %(first_train_{label})s))"
        for label in CLASSES
    )
    return (
        "SELECT r.churn, r.position, r.key_hash FROM (SELECT c.churn, "
        f"{KEY_HASH_SQL} AS key_hash, ROW_NUMBER() OVER (PARTITION BY c.churn ORDER BY "
        f"{KEY_HASH_SQL}, c.area_code, c.phone) AS position FROM customers AS c WHERE {LABELLED}) AS r"
        f" WHERE {wanted}"
    )


@dataclass(frozen=True)
class SplitCuts:
    """The key hash below which a customer of each class is test, and below which it is test or
    validation (ABOVE_EVERY_HASH when a part takes the rest of the class)."""

    seed: int
    validation_from: dict[int, int]
    train_from: dict[int, int]

    @classmethod
    def from_rows(cls, seed: int, positions: SplitPositions, rows: Sequence[Mapping[str, Any]]) -> SplitCuts:
        found = {(int(row["churn"]), int(row["position"])): int(row["key_hash"]) for row in rows}
        return cls(
            seed,
            {c: found.get((c, positions.first_validation[c]), ABOVE_EVERY_HASH) for c in CLASSES},
            {c: found.get((c, positions.first_train[c]), ABOVE_EVERY_HASH) for c in CLASSES},
        )

    def params(self) -> dict[str, int]:
        return {
            "seed": self.seed,
            **{f"validation_from_{label}": self.validation_from[label] for label in CLASSES},
            **{f"train_from_{label}": self.train_from[label] for label in CLASSES},
        }


def _cut(name: str) -> str:
    return f"IF(c.churn = 1, %({name}_1)s, %({name}_0)s)"


def part_condition(part: str) -> str:
    """Rows of one part (or "not test": train and validation), for params SplitCuts.params()."""
    conditions = {
        "test": f"{KEY_HASH_SQL} < {_cut('validation_from')}",
        "validation": (
            f"{KEY_HASH_SQL} >= {_cut('validation_from')} AND {KEY_HASH_SQL} < {_cut('train_from')}"
        ),
        "train": f"{KEY_HASH_SQL} >= {_cut('train_from')}",
        "not test": f"{KEY_HASH_SQL} >= {_cut('validation_from')}",
    }
    return f"{LABELLED} AND {conditions[part]}"


def part_counts_sql() -> str:
    """(part, churn, customers) for every part and class."""
    part = "CASE " + " ".join(f"WHEN {part_condition(name)} THEN '{name}'" for name in PARTS) + " END"
    return (
        f"SELECT {part} AS part, c.churn AS churn, COUNT(*) AS customers FROM customers AS c"
        f" WHERE {LABELLED} GROUP BY part, churn"
    )


def categories_sql() -> str:
    """(source column, value) for each value of the one-hot columns among train and validation rows."""
    return " UNION ALL ".join(
        f"SELECT DISTINCT '{column}' AS source, c.{quote_identifier(column)} AS value"
        f" FROM customers AS c WHERE {part_condition('not test')}"
        for column in ONE_HOT_COLUMNS
    )


def channel_sql(spec: FeatureSpec, part: str, *, sharded: bool = False) -> str:
    """One part's rows as the built-in algorithm reads them: churn, then `spec`'s features in order.

    Ordered by the key (the primary key's order, no sort), so the same seed writes the same files.
    With `sharded`, only the rows whose key hash leaves %(shard)s modulo %(shards)s.
    """
    columns = ", ".join(["c.churn", *feature_arguments(spec, "c", inline=True)])
    shard = f" AND MOD({KEY_HASH_SQL}, %(shards)s) = %(shard)s" if sharded else ""
    return (
        f"SELECT {columns} FROM customers AS c WHERE {part_condition(part)}{shard}"
        " ORDER BY c.area_code, c.phone"
    )


def order_statistics_sql(spec: FeatureSpec, positions: Sequence[int]) -> str:
    """(feature position in `spec`, 0-based position, value) of each feature's train values at
    `positions` in sorted order, bound as %(position_N)s."""
    wanted = ", ".join(f"%(position_{number})s" for number in range(len(positions)))
    parts = []
    for index, argument in enumerate(feature_arguments(spec, "c", inline=True)):
        parts.append(
            f"SELECT {index} AS feature, r.position, r.value FROM (SELECT {argument} AS value,"
            f" ROW_NUMBER() OVER (ORDER BY {argument}) - 1 AS position FROM customers AS c"
            f" WHERE {part_condition('train')}) AS r WHERE r.position IN ({wanted})"
        )
    return " UNION ALL ".join(parts)


def one_hot_counts_sql(spec: FeatureSpec) -> str:
    """One row: for each feature of `spec` (one-hot features), how many train rows have it (`ones_N`).
    A 0/1 column's order statistics follow from that count, so it needs no sort."""
    columns = ", ".join(
        f"COALESCE(SUM({argument}), 0) AS ones_{index}"
        for index, argument in enumerate(feature_arguments(spec, "c", inline=True))
    )
    return f"SELECT {columns} FROM customers AS c WHERE {part_condition('train')}"


def position_params(positions: Sequence[int]) -> dict[str, int]:
    return {f"position_{number}": position for number, position in enumerate(positions)}


def train_bin_counts_sql(spec: FeatureSpec, cuts: Mapping[str, Sequence[float]]) -> str:
    """(feature position, bin, customers) over the train rows, binned as drift bins the live table."""
    references = {name: Reference(list(cuts[name]), [0.0] * (len(cuts[name]) + 1)) for name in spec.names}
    return live_bins_sql(spec, references, where=part_condition("train"))
