"""churnguard.bootstrap.seed: the seed URI is checked before it is embedded in Aurora's LOAD DATA."""

import csv
import io

import pytest

from churnguard.bootstrap.apply import BootstrapError
from churnguard.bootstrap.seed import (
    MESSAGES_SEED,
    MESSAGES_SOURCE_NAME,
    load_from_s3_statement,
    parse_seed_uri,
    write_messages_csv,
)
from churnguard.customer_schema import COLUMN_NAMES


def test_plain_and_regional_uris_parse():
    seed = parse_seed_uri("s3://churnguard-data-123/seed/customers.csv")
    assert (seed.bucket, seed.key) == ("churnguard-data-123", "seed/customers.csv")
    regional = parse_seed_uri("s3-eu-west-1://churnguard-data-123/customers.csv")
    assert regional.bucket == "churnguard-data-123"


@pytest.mark.parametrize(
    "uri",
    [
        "https://bucket/key.csv",
        "s3://bucket",
        "s3://Bucket/key.csv",
        "s3://bucket/key'.csv",
        "s3://bucket/key\\.csv",
        "s3://bucket/key .csv",
        "s3://bucket/k';DROP TABLE customers;--",
    ],
)
def test_uris_that_are_not_plain_s3_objects_are_refused(uri):
    with pytest.raises(BootstrapError, match="is not s3://bucket/key"):
        parse_seed_uri(uri)


def test_load_statement_is_aurora_load_data_from_s3_that_never_replaces_rows():
    step = load_from_s3_statement(parse_seed_uri("s3://churnguard-data/seed/customers.csv"))
    assert step.sql == (
        "LOAD DATA FROM S3 FILE 's3://churnguard-data/seed/customers.csv' IGNORE INTO TABLE customers "
        "CHARACTER SET utf8mb4 FIELDS TERMINATED BY ',' OPTIONALLY ENCLOSED BY '\"' "
        "LINES TERMINATED BY '\\n' IGNORE 1 LINES (" + ", ".join(COLUMN_NAMES) + ")"
    )
    assert "REPLACE" not in step.sql
    assert step.source == "seed data"


def test_messages_load_statement_reads_rfc4180_csv_without_backslash_escapes():
    step = load_from_s3_statement(parse_seed_uri("s3://churnguard-data/seed/messages.csv"), MESSAGES_SEED)
    assert step.sql == (
        "LOAD DATA FROM S3 FILE 's3://churnguard-data/seed/messages.csv' IGNORE INTO TABLE customer_messages "
        "CHARACTER SET utf8mb4 FIELDS TERMINATED BY ',' ENCLOSED BY '\"' ESCAPED BY '' "
        "LINES TERMINATED BY '\\n' IGNORE 1 LINES (area_code, phone, message, received_at)"
    )
    assert "REPLACE" not in step.sql
    assert step.source == "seed messages"


def test_a_bad_messages_uri_is_named_as_the_messages_seed():
    with pytest.raises(BootstrapError, match=r"^seed messages URI 's3://b/k' is not s3://bucket/key"):
        parse_seed_uri("s3://b/k", MESSAGES_SOURCE_NAME)


def test_messages_csv_quotes_every_field_and_doubles_inner_quotes():
    out = io.StringIO(newline="")
    write_messages_csv(
        out,
        [
            (415, "358-1921", 'He said "no", then left', "2025-12-06 04:24:27"),
            (408, "375-9999", "NULL", "2025-12-07 00:00:00"),
            (510, "376-9034", "two\nlines", "2025-12-08 00:00:00"),
        ],
    )
    assert out.getvalue() == (
        '"area_code","phone","message","received_at"\n'
        '"415","358-1921","He said ""no"", then left","2025-12-06 04:24:27"\n'
        '"408","375-9999","NULL","2025-12-07 00:00:00"\n'
        '"510","376-9034","two\nlines","2025-12-08 00:00:00"\n'
    )
    rows = list(csv.reader(io.StringIO(out.getvalue(), newline="")))
    assert [row[2] for row in rows[1:]] == ['He said "no", then left', "NULL", "two\nlines"]
