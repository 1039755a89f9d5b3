"""The local stand-in as a verify target: the server `churnguard local up` recorded, or any database
given by URL.

The application URL runs what the API runs. The admin URL (root's, recorded by `local up`, or
--admin-db-url) makes the scratch table and runs the file export and load, which need MariaDB's
global FILE privilege that the local application user does not have. The recommend check runs the
API's engine in-process on the application URL: there is no Function URL, SigV4 or Lambda locally,
but the rules, the drivers and the offers log are the very code the Lambda runs.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

from churnguard.db import PyMySqlClient, connect, parse_url
from churnguard.errors import UserError
from churnguard.verify.target import ExportPlace

EXPORT_FILE = "customers.csv"


def with_database(url: str, database: str | None) -> str:
    """`url` (same user, password, host, port) pointed at `database`."""
    parts = parse_url(url)
    credentials = quote(parts.user, safe="")
    if parts.password:
        credentials += ":" + quote(parts.password, safe="")
    return f"mysql://{credentials}@{parts.host}:{parts.port}/{quote(database or '', safe='')}"


class LocalTarget:
    """A MariaDB/MySQL database reached with PyMySQL (see the module docstring for who does what)."""

    def __init__(self, *, app_url: str, admin_url: str | None, model_dir: Path) -> None:
        database = parse_url(app_url).database
        if not database:
            raise UserError(
                "the database URL names no database: expected mysql://user:pw@host:port/churnguard"
            )
        self.app: PyMySqlClient = connect(app_url)
        self.admin: PyMySqlClient = connect(with_database(admin_url, database)) if admin_url else self.app
        self.file_client = self.admin
        self.aurora = False  # MariaDB, or a MySQL given by URL: the AWS_* roles exist only on Aurora
        self.model_dir = model_dir
        self.description = f"local database {self.app.url}"
        self.hints: Mapping[str, str] = {
            "user": parse_url(app_url).user,
            "verify_with_model": "make verify ARGS=--local OUT=<its folder>, or churnguard verify --local "
            "--model-dir <its folder>",
            "serve_model": "churnguard local down, then churnguard local up --model <folder>",
        }

    def wake(self) -> str:
        version = self.app.query("SELECT VERSION() AS version")[0]["version"]
        return f"answers: server {version}"

    @contextmanager
    def export_place(self) -> Iterator[ExportPlace]:
        # The server writes the file itself (INTO OUTFILE), as the OS user it runs as: `local up`
        # starts it as the user running churnguard, so a private temporary folder is writable by it.
        folder = Path(tempfile.mkdtemp(prefix="churnguard-verify-"))
        try:
            yield ExportPlace(form="local", placeholder="path", location=str(folder / EXPORT_FILE))
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    def recommend(self, area_code: int, phone: str, message: str) -> Mapping[str, Any]:
        from churnguard.agent_identity import local_actor
        from churnguard.engine.recommend import Engine
        from churnguard.engine.request import validate_request

        engine = Engine.load(self.model_dir)
        # verify speaks for whoever runs it, as `churnguard recommend` does (churnguard.agent_identity)
        return engine.recommend(
            self.app, validate_request(area_code, phone, message), agent=local_actor(None).agent
        )

    def console(self, customer: tuple[int, str]) -> str:
        from churnguard.verify.checks import SkipCheck

        raise SkipCheck(
            "the deployed console's sign-in path; locally the page is `churnguard console`, which its own "
            "tests drive in a browser"
        )

    def close(self) -> None:
        self.app.close()
        if self.admin is not self.app:
            self.admin.close()
