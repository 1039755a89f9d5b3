"""churnguard.bootstrap.seed: the seed URI is checked before it is embedded in Aurora's LOAD DATA."""

import pytest

from churnguard.bootstrap.apply import BootstrapError
from churnguard.bootstrap.seed import load_from_s3_statement, parse_seed_uri
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
