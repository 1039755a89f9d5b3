"""A real local database prepared as a deploy leaves Aurora, for `churnguard verify --db-url`.

`verify_database` installs churnguard (schema, 300 synthetic customers with their messages, the
session's trained model compiled to SQL, the Comprehend stand-ins) into a scratch database, and
creates an application user holding exactly what the bootstrap grants on Aurora: SELECT, INSERT and
EXECUTE on that database, and the API user as `churnguard local up` creates it (dropped afterwards: an
account is the server's, not the scratch database's). The admin URL is root's on the same database.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from churnguard.bootstrap.app_user import APP_PRIVILEGES
from churnguard.constants import API_USER_NAME
from churnguard.db import PyMySqlClient, connect, parse_url
from churnguard.local.install import create_api_user, install_churnguard
from tests.fixtures.mariadb import scratch_database
from training.synthetic import generate_customers, generate_messages

CUSTOMERS = 300
SEED = 11


@dataclass(frozen=True)
class VerifyDatabase:
    app_url: str
    admin_url: str
    app_user: str
    database: str
    model_dir: Path

    def admin(self) -> PyMySqlClient:
        return connect(self.admin_url)


@pytest.fixture()
def verify_database(mariadb_url: str, trained_model_dir: Path) -> Iterator[VerifyDatabase]:
    with scratch_database(mariadb_url, "verify") as admin_url:
        admin = connect(admin_url)
        database = str(parse_url(admin_url).database)
        user = f"verify_{secrets.token_hex(4)}"
        password = secrets.token_urlsafe(16)
        try:
            customers = generate_customers(CUSTOMERS, seed=SEED)
            install_churnguard(
                admin,
                model_dir=trained_model_dir,
                customers=customers,
                messages=generate_messages(customers, seed=SEED),
            )
            admin.execute(
                "CREATE USER %(user)s@'127.0.0.1' IDENTIFIED BY %(pw)s", {"user": user, "pw": password}
            )
            admin.execute(
                f"GRANT {', '.join(APP_PRIVILEGES)} ON `{database}`.* TO %(user)s@'127.0.0.1'", {"user": user}
            )
            parts = parse_url(admin_url)
            app_url = f"mysql://{user}:{password}@{parts.host}:{parts.port}/{database}"
            create_api_user(admin_url, app_url)
            yield VerifyDatabase(
                app_url=app_url,
                admin_url=admin_url,
                app_user=user,
                database=database,
                model_dir=trained_model_dir,
            )
        finally:
            admin.execute("DROP USER IF EXISTS %(user)s@'127.0.0.1'", {"user": user})
            admin.execute("DROP USER IF EXISTS %(user)s@'%%'", {"user": API_USER_NAME})
            admin.close()
