"""training.sagemaker.table_sql against a real MariaDB: the split, the checks, the channels and the reference
that Aurora computes for training whose rows stay in the database, each compared with what the local
code computes from the same rows (the tests read the rows; the launcher never does)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from churnguard.feature_spec import FeatureSpec
from churnguard.sql_client import SqlClient
from churnguard.sqlgen.files import apply_sql_files, static_sql_files
from churnguard.sqlgen.loading import load_customers as insert_customers
from training.artifacts import quantile_ranks, reference_bins, reference_bins_from, reference_cuts
from training.data import load_customers_from_db
from training.features import build_feature_spec, feature_matrix, feature_spec_from_categories, labels
from training.sagemaker.table_sql import (
    CONTENT_RULES,
    KEY_HASH_HEX_DIGITS,
    KEY_HASH_SQL,
    SplitCuts,
    SplitPositions,
    categories_sql,
    channel_sql,
    key_hash,
    one_hot_counts_sql,
    order_statistics_sql,
    part_condition,
    part_counts_sql,
    position_params,
    split_cuts_sql,
    table_facts_sql,
    table_fingerprint,
    train_bin_counts_sql,
)
from training.synthetic import generate_customers

pytestmark = pytest.mark.mariadb

ROWS = 600
SEED = 11


def _load(client: SqlClient, customers: Any) -> None:
    apply_sql_files(client, static_sql_files())
    insert_customers(client, customers)


@pytest.fixture()
def table(sql_client):
    customers = generate_customers(ROWS, seed=4)
    _load(sql_client, customers)
    return sql_client, customers.sort_values(["area_code", "phone"], ignore_index=True)


def _facts(client: SqlClient) -> dict[str, Any]:
    (row,) = client.query(table_facts_sql())
    return {key: int(value) for key, value in row.items()}


def _cuts(client: SqlClient, seed: int = SEED) -> SplitCuts:
    facts = _facts(client)
    positions = SplitPositions.for_classes({0: facts["stayed"], 1: facts["churned"]})
    return SplitCuts.from_rows(seed, positions, client.query(split_cuts_sql(), positions.params(seed)))


def _parts(client: SqlClient, cuts: SplitCuts) -> dict[str, set[tuple[int, str]]]:
    return {
        part: {
            (int(row["area_code"]), str(row["phone"]))
            for row in client.query(
                f"SELECT c.area_code, c.phone FROM customers AS c WHERE {part_condition(part)}", cuts.params()
            )
        }
        for part in ("train", "validation", "test")
    }


def documented_split(customers: Any, seed: int) -> dict[str, set[tuple[int, str]]]:
    """The rule as docs/training.md states it, computed in Python from the key hash."""
    parts: dict[str, set[tuple[int, str]]] = {"train": set(), "validation": set(), "test": set()}
    for churn in (False, True):
        group = customers[customers["churn"] == churn]
        keys = sorted(
            zip(group["area_code"], group["phone"], strict=True),
            key=lambda key: (key_hash(seed, *key), key),
        )
        test, validation = round(0.1 * len(keys)), round(0.2 * len(keys))
        parts["test"] |= set(keys[:test])
        parts["validation"] |= set(keys[test : test + validation])
        parts["train"] |= set(keys[test + validation :])
    return parts


def test_the_split_is_the_documented_rule_with_exact_shares_per_class(table) -> None:
    client, customers = table
    parts = _parts(client, _cuts(client))
    assert parts == documented_split(customers, SEED)
    churned = customers[customers["churn"]]
    churners = set(zip(churned["area_code"], churned["phone"], strict=True))
    for part, share in (("test", 0.1), ("validation", 0.2)):
        assert len(parts[part] & churners) == round(share * len(churners))
        assert len(parts[part] - churners) == round(share * (len(customers) - len(churners)))
    assert sum(len(keys) for keys in parts.values()) == len(customers)


def test_the_split_is_deterministic_and_follows_the_seed(table) -> None:
    client, _ = table
    first, again, other = (
        _parts(client, _cuts(client)),
        _parts(client, _cuts(client)),
        _parts(client, _cuts(client, 12)),
    )
    assert first == again
    assert first["test"] != other["test"]


def test_the_key_hash_is_sixty_bits_of_sha256(table) -> None:
    client, _ = table
    (row,) = client.query(
        f"SELECT c.area_code, c.phone, {KEY_HASH_SQL} AS h FROM customers AS c"
        " ORDER BY c.area_code, c.phone LIMIT 1",
        {"seed": SEED},
    )
    assert int(row["h"]) == key_hash(SEED, int(row["area_code"]), row["phone"])
    assert int(row["h"]) < 16**KEY_HASH_HEX_DIGITS


def test_facts_count_classes_and_fingerprint_the_labelled_rows_in_any_order(table, sql_client) -> None:
    client, customers = table
    facts = _facts(client)
    assert (facts["customers"], facts["churned"], facts["stayed"], facts["unlabelled"]) == (
        ROWS,
        int(customers["churn"].sum()),
        ROWS - int(customers["churn"].sum()),
        0,
    )
    assert all(facts[f"bad_{rule.name}"] == 0 for rule in CONTENT_RULES)
    chunks = [facts[f"fingerprint_{number}"] for number in range(4)]
    fingerprint = table_fingerprint(ROWS, chunks)
    # Loaded in another order: the same fingerprint.
    client.execute("DELETE FROM customers")
    insert_customers(client, customers.iloc[::-1])
    assert table_fingerprint(ROWS, [_facts(client)[f"fingerprint_{n}"] for n in range(4)]) == fingerprint
    client.execute(
        "UPDATE customers SET day_mins = day_mins + 0.01 WHERE phone = %(phone)s", {"phone": "358-1921"}
    )
    assert table_fingerprint(ROWS, [_facts(client)[f"fingerprint_{n}"] for n in range(4)]) != fingerprint
    # An unlabelled customer is counted, not fingerprinted.
    client.execute("UPDATE customers SET churn = NULL WHERE phone = %(phone)s", {"phone": "375-9999"})
    facts = _facts(client)
    assert facts["unlabelled"] == 1 and facts["stayed"] + facts["churned"] == ROWS - 1


def test_bad_content_is_counted_by_rule(table) -> None:
    client, customers = table
    phones = customers["phone"].tolist()
    client.execute(
        "UPDATE customers SET state = 'ny' WHERE phone IN (%(a)s, %(b)s)", {"a": phones[0], "b": phones[1]}
    )
    client.execute("UPDATE customers SET int_plan = 'YES' WHERE phone = %(p)s", {"p": phones[2]})
    client.execute("UPDATE customers SET vmail_plan = 'no ' WHERE phone = %(p)s", {"p": phones[3]})
    client.execute("UPDATE customers SET churn = 2 WHERE phone = %(p)s", {"p": phones[4]})
    # A bad row that is not a training row (churn unknown) does not count.
    client.execute("UPDATE customers SET state = 'x', churn = NULL WHERE phone = %(p)s", {"p": phones[5]})
    facts = _facts(client)
    assert {rule.name: facts[f"bad_{rule.name}"] for rule in CONTENT_RULES} == {
        "churn": 1,
        "state": 2,
        "int_plan": 1,
        "vmail_plan": 1,
    }
    # What the local loader also refuses (state, churn); the plans it would lower-case and trim,
    # which will_churn's byte-for-byte one-hot does not.
    with pytest.raises(Exception, match="not a two-letter state code") as raised:
        load_customers_from_db(client)
    assert "is not a churn label" in str(raised.value)


def test_categories_come_from_train_and_validation_rows_only(table) -> None:
    client, customers = table
    cuts = _cuts(client)
    parts = _parts(client, cuts)
    rows = client.query(categories_sql(), cuts.params())
    categories: dict[str, set[str]] = {}
    for row in rows:
        categories.setdefault(row["source"], set()).add(str(row["value"]))
    keyed = customers.set_index(["area_code", "phone"])
    seen = keyed.loc[sorted(parts["train"] | parts["validation"])].reset_index()
    assert feature_spec_from_categories(categories) == build_feature_spec(seen)


def test_channels_hold_the_label_and_the_features_the_local_code_computes(table) -> None:
    client, customers = table
    cuts = _cuts(client)
    parts = _parts(client, cuts)
    spec = build_feature_spec(customers)
    keyed = customers.set_index(["area_code", "phone"])
    for part in ("train", "validation", "test"):
        rows = client.query(channel_sql(spec, part), cuts.params())
        # PyMySQL parses the server's text of each value as the container parses the file's.
        exported = np.array([[float(value) for value in row.values()] for row in rows])
        expected_rows = keyed.loc[sorted(parts[part])].reset_index()
        expected = np.column_stack([labels(expected_rows), feature_matrix(expected_rows, spec)])
        assert np.array_equal(exported, expected)


def test_shards_cut_the_train_part_into_disjoint_pieces(table) -> None:
    client, _ = table
    cuts = _cuts(client)
    spec = build_feature_spec(generate_customers(50, seed=1))
    whole = client.query(channel_sql(spec, "train"), cuts.params())
    pieces = [
        client.query(channel_sql(spec, "train", sharded=True), {**cuts.params(), "shards": 3, "shard": shard})
        for shard in range(3)
    ]
    assert all(pieces) and sum(len(piece) for piece in pieces) == len(whole)
    assert sorted(str(row) for piece in pieces for row in piece) == sorted(map(str, whole))


def test_the_reference_counted_in_sql_is_the_local_reference(table) -> None:
    client, customers = table
    cuts = _cuts(client)
    train = (
        customers.set_index(["area_code", "phone"]).loc[sorted(_parts(client, cuts)["train"])].reset_index()
    )
    spec = build_feature_spec(customers)
    matrix = feature_matrix(train, spec)
    numeric = [f for f in spec.features if f.kind != "one_hot"]
    one_hot = [f for f in spec.features if f.kind == "one_hot"]
    positions = sorted({0, *quantile_ranks(len(train))})
    stats: dict[int, dict[int, float]] = {}
    for row in client.query(
        order_statistics_sql(FeatureSpec(tuple(numeric)), positions),
        {**cuts.params(), **position_params(positions)},
    ):
        stats.setdefault(int(row["feature"]), {})[int(row["position"])] = float(row["value"])
    cut_points = {
        feature.name: reference_cuts(len(train), stats[index].__getitem__)
        for index, feature in enumerate(numeric)
    }
    counts: dict[int, dict[int, int]] = {}
    for row in client.query(train_bin_counts_sql(FeatureSpec(tuple(numeric)), cut_points), cuts.params()):
        counts.setdefault(int(row["feature"]), {})[int(row["bucket"])] = int(row["customers"])
    for index, feature in enumerate(numeric):
        got = reference_bins_from(
            len(train),
            stats[index].__getitem__,
            lambda found, index=index: [counts[index].get(b, 0) for b in range(len(found) + 1)],
        )
        assert got == reference_bins(matrix[:, spec.names.index(feature.name)]), feature.name
    (ones,) = client.query(one_hot_counts_sql(FeatureSpec(tuple(one_hot))), cuts.params())
    for index, feature in enumerate(one_hot):
        assert int(ones[f"ones_{index}"]) == int(matrix[:, spec.names.index(feature.name)].sum())


def test_part_counts_match_the_parts(table) -> None:
    client, _ = table
    cuts = _cuts(client)
    parts = _parts(client, cuts)
    counted: dict[str, int] = {}
    for row in client.query(part_counts_sql(), cuts.params()):
        counted[row["part"]] = counted.get(row["part"], 0) + int(row["customers"])
    assert counted == {part: len(keys) for part, keys in parts.items()}
