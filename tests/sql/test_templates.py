"""The export/load templates type the customer columns and the CSV format by hand, twice each (Aurora
and local form); only the local forms can run here, so these checks keep the Aurora forms in step."""

import re

import pytest

from churnguard.customer_schema import COLUMN_NAMES
from churnguard.sqlgen import read_template

TEMPLATES = [
    "export_customers.aurora.sql",
    "export_customers.local.sql",
    "load_customers.aurora.sql",
    "load_customers.local.sql",
]


def code_of(name: str) -> str:
    """The template without its comment lines, on one line."""
    lines = [line for line in read_template(name).splitlines() if not line.lstrip().startswith("--")]
    return " ".join(" ".join(lines).split())


@pytest.mark.parametrize("name", TEMPLATES)
def test_every_template_lists_the_customer_columns_in_schema_order(name):
    code = code_of(name)
    listed = re.search(r"^SELECT (.*?) FROM customers", code) or re.search(r"\(([^()]*)\);$", code)
    assert listed is not None
    assert [column.strip() for column in listed.group(1).split(",")] == list(COLUMN_NAMES)


@pytest.mark.parametrize("action", ["export_customers", "load_customers"])
def test_the_aurora_and_local_forms_read_and_write_the_same_csv_format(action):
    def csv_format(name: str) -> str:
        found = re.search(r"FIELDS .*? LINES TERMINATED BY '\\n'", code_of(name))
        assert found is not None, name
        return found.group()

    assert csv_format(f"{action}.aurora.sql") == csv_format(f"{action}.local.sql")
