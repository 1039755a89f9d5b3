"""The loaders against a real MariaDB server: the table read through a SqlClient, and the server's export."""

from __future__ import annotations

from pathlib import Path

import pytest

from churnguard.db import connect
from churnguard.sqlgen.files import apply_sql_files, run_template, static_sql_files
from churnguard.sqlgen.loading import load_customers as insert_customers
from training.data import load_customers_from_db, load_exported_customers
from training.synthetic import generate_customers

pytestmark = pytest.mark.mariadb


@pytest.fixture()
def loaded(sql_client):
    customers = generate_customers(150, seed=12)
    apply_sql_files(sql_client, static_sql_files())
    insert_customers(sql_client, customers)
    return sql_client, customers.sort_values(["area_code", "phone"], ignore_index=True)


def test_the_table_reads_back_equal_to_what_was_stored(loaded) -> None:
    client, customers = loaded
    assert load_customers_from_db(client).equals(customers)


def test_customers_with_unknown_churn_are_not_training_rows(loaded) -> None:
    client, customers = loaded
    client.execute("UPDATE customers SET churn = NULL WHERE phone = %(phone)s", {"phone": "358-1921"})
    table = load_customers_from_db(client)
    assert len(table) == len(customers) - 1
    assert "358-1921" not in set(table["phone"])


def test_the_servers_export_file_loads_to_the_same_table(loaded, mariadb_url: str, tmp_path: Path) -> None:
    client, customers = loaded
    database = client.query("SELECT DATABASE() AS name")[0]["name"]
    export = tmp_path / "customers.csv"
    tmp_path.chmod(0o777)  # the server process writes the file
    admin = connect(mariadb_url)
    try:
        admin.execute(f"USE `{database}`")
        run_template(admin, "export_customers.local.sql", {"path": str(export)})
    finally:
        admin.close()
    assert load_exported_customers(export).equals(customers)
