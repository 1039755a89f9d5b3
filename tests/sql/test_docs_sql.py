"""Every ```sql block of README.md and docs/sql.md, pasted as it is into the `mariadb` client against a
local server with a trained model installed: a DBA copying from the docs gets answers, not ERROR 1064.

A block that only the deployed cluster can run starts with `-- aurora-only: <why>`; it is not run here
(test_aurora_only_blocks_say_why checks that it says why and is otherwise as clean as the others).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from churnguard.db import parse_url
from churnguard.local.install import install_churnguard
from tests.fixtures.mariadb import scratch_database
from training.synthetic import generate_customers, generate_messages

ROOT = Path(__file__).resolve().parents[2]
DOCS = ("README.md", "docs/sql.md")
AURORA_ONLY = "-- aurora-only:"
FENCE = re.compile(r"^```sql\n(.*?)^```", re.MULTILINE | re.DOTALL)
CLIENT_TIMEOUT_S = 60


def sql_blocks() -> list[tuple[str, str]]:
    """(id, text) for each ```sql block, the id naming the file and the block's first line number."""
    blocks = []
    for name in DOCS:
        text = (ROOT / name).read_text(encoding="utf-8")
        for match in FENCE.finditer(text):
            line = text.count("\n", 0, match.start()) + 1
            blocks.append((f"{name}:{line}", match.group(1)))
    return blocks


BLOCKS = sql_blocks()
RUNNABLE = [(where, text) for where, text in BLOCKS if not text.startswith(AURORA_ONLY)]
AURORA_BLOCKS = [(where, text) for where, text in BLOCKS if text.startswith(AURORA_ONLY)]


def test_the_docs_have_sql_blocks_to_paste():
    assert {where.split(":")[0] for where, _ in RUNNABLE} == set(DOCS)


@pytest.mark.parametrize(("where", "text"), BLOCKS, ids=[where for where, _ in BLOCKS])
def test_no_block_holds_an_ellipsis_or_a_driver_placeholder(where, text):
    assert "..." not in text and "…" not in text
    assert "%(" not in text  # pyformat placeholders are for programs, not for a pasted statement


def test_aurora_only_blocks_say_why():
    assert AURORA_BLOCKS, "docs/sql.md shows one statement only the deployed cluster can run"
    for where, text in AURORA_BLOCKS:
        reason = text.splitlines()[0][len(AURORA_ONLY) :].strip()
        assert len(reason) > 20, f"{where}: say why the block cannot run locally"


@pytest.fixture(scope="module")
def client_options(mariadb_url, trained_model_dir, tmp_path_factory):
    """`mariadb` client options for a scratch database holding customers, messages and the model."""
    if shutil.which("mariadb") is None:
        pytest.fail(
            "the mariadb client is missing: run `make system-packages` (Debian package mariadb-server)"
        )
    from churnguard.db import connect

    with scratch_database(mariadb_url, "docs") as url:
        client = connect(url)
        customers = generate_customers(2_000, seed=17)
        try:
            install_churnguard(
                client,
                model_dir=trained_model_dir,
                customers=customers,
                messages=generate_messages(customers, seed=17),
            )
        finally:
            client.close()
        parts = parse_url(url)
        options = tmp_path_factory.mktemp("docs-client") / "client.cnf"
        options.write_text(f"[client]\npassword={parts.password}\n", encoding="utf-8")
        options.chmod(0o600)
        yield [
            f"--defaults-extra-file={options}",
            "--protocol=tcp",
            f"--host={parts.host}",
            f"--port={parts.port}",
            f"--user={parts.user}",
            f"--database={parts.database}",
            "--batch",
        ]


@pytest.mark.mariadb
@pytest.mark.parametrize(("where", "text"), RUNNABLE, ids=[where for where, _ in RUNNABLE])
def test_each_block_runs_as_pasted_in_the_mariadb_client(client_options, where, text):
    result = subprocess.run(
        ["mariadb", *client_options],
        input=text,
        capture_output=True,
        text=True,
        timeout=CLIENT_TIMEOUT_S,
        check=False,
    )
    assert result.returncode == 0, f"{where}: {result.stderr.strip()}"
    assert result.stderr == ""
    if re.search(r"\bSELECT\b", text):
        assert len(result.stdout.splitlines()) >= 2, f"{where}: a header and at least one row"
    if "@message" in text or "You morons" in text:
        assert "358-1921" in result.stdout and "NEGATIVE" in result.stdout
