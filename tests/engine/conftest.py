"""A database prepared once for the engine's tests: synthetic customers, the trained fixture model's
compiled will_churn and the local Comprehend stand-ins, exactly as `churnguard local up` prepares it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from churnguard.db import PyMySqlClient, connect
from churnguard.engine.recommend import Engine
from tests.engine import faults
from tests.engine.faults import faulty_db_url, spare_server  # noqa: F401  (fixtures, registered here)
from tests.fixtures.mariadb import scratch_database

# A client on the faults database (tests.engine.faults), for the fault tests' modules.
client = faults.client

CUSTOMER_ROWS = 400
CUSTOMER_SEED = 1729


@pytest.fixture(scope="session")
def engine_db_url(mariadb_url: str, trained_model_dir: Path) -> Iterator[str]:
    """URL of a database holding customers, the offers log and every function the statement calls."""
    from churnguard.local.install import install_churnguard
    from training.synthetic import generate_customers, generate_messages

    with scratch_database(mariadb_url, "engine") as url:
        customers = generate_customers(CUSTOMER_ROWS, seed=CUSTOMER_SEED)
        with connect(url) as client:
            install_churnguard(
                client,
                model_dir=trained_model_dir,
                customers=customers,
                messages=generate_messages(customers, seed=CUSTOMER_SEED),
            )
        yield url


@pytest.fixture()
def engine_db(engine_db_url: str) -> Iterator[PyMySqlClient]:
    client = connect(engine_db_url)
    try:
        yield client
    finally:
        client.close()


@pytest.fixture(scope="session")
def engine(trained_model_dir: Path) -> Engine:
    return Engine.load(trained_model_dir)
