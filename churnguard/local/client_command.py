"""A `mariadb` command line that opens the local database as pasted, with no password typed or shown.

The password goes into an owner-only option file beside the state file (the same exposure as the
state file, which holds it already), named with `--defaults-extra-file`: it never appears on a command
line, where other users of the machine could read it in the process list. `local down` deletes it.
"""

from __future__ import annotations

import os
import shlex
from pathlib import Path

from churnguard.db import parse_url
from churnguard.local.state import home_dir

CLIENT_OPTIONS_NAME = "mariadb-client.cnf"


def client_options_path() -> Path:
    return home_dir() / CLIENT_OPTIONS_NAME


def _quoted(value: str) -> str:
    """An option-file value in double quotes, backslashes and quotes escaped as the client reads them."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def write_client_options(url: str) -> Path:
    """The [client] options of `url` (user, password, host, port) in a file only its owner can read."""
    parts = parse_url(url)
    lines = [
        "# written by `churnguard local up`; deleted by `churnguard local down`",
        "[client]",
        f"user={_quoted(parts.user)}",
        f"password={_quoted(parts.password)}",
        f"host={_quoted(parts.host)}",
        f"port={parts.port}",
        "protocol=TCP",
    ]
    path = client_options_path()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write("\n".join(lines) + "\n")
    return path


def client_command(url: str) -> str:
    """`mariadb --defaults-extra-file=<options> <database>`, written afresh from `url`."""
    path = write_client_options(url)
    database = parse_url(url).database or ""
    return f"mariadb --defaults-extra-file={shlex.quote(str(path))} {shlex.quote(database)}".rstrip()


def forget_client_options() -> None:
    client_options_path().unlink(missing_ok=True)
