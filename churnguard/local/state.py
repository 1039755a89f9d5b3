"""The state file `churnguard local up` writes: which server runs, how to reach it, which model it serves.

It lives under $CHURNGUARD_HOME (default ~/.churnguard) and is readable only by its owner, because it
holds the server's passwords.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from churnguard.errors import UserError

HOME_ENV = "CHURNGUARD_HOME"
STATE_FILE_NAME = "local-db.json"


@dataclass(frozen=True)
class LocalServer:
    """A running server: where it lives, how to reach it, and whether `local down` may stop it.

    `url` is the least-privilege application URL (user `churnguard`, rights on one database only);
    `admin_url` is root's, used by the test fixtures to create and drop scratch databases.
    `managed` is False when `local up --db-url` adopted an existing server: then down only forgets it.
    `model_dir` is the model store's folder of the model whose functions `local up` installed, so
    `recommend`, `drift` and the rest use the same model; empty in state files written before it was
    recorded. `api_url` is the API user's (the grants the deployed API Lambdas have,
    churnguard.bootstrap.app_user), made by `local up` on a server it started; empty otherwise.
    """

    url: str
    admin_url: str
    base_dir: str
    port: int
    pid: int
    managed: bool = True
    model_dir: str = ""
    api_url: str = ""


def home_dir() -> Path:
    return Path(os.environ.get(HOME_ENV) or Path.home() / ".churnguard")


def state_path() -> Path:
    return home_dir() / STATE_FILE_NAME


def read_state() -> LocalServer | None:
    """The server `local up` recorded, or None when there is none."""
    path = state_path()
    if not path.exists():
        return None
    try:
        return LocalServer(**json.loads(path.read_text(encoding="utf-8")))
    except (ValueError, TypeError) as error:
        raise UserError(
            f"{path} is not a churnguard state file ({error}); delete it and run `local up`"
        ) from None


def write_state(server: LocalServer) -> Path:
    """Record the server, creating the file owner-only before the password is written into it."""
    path = state_path()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        json.dump(asdict(server), handle, indent=2)
    return path


def forget_state() -> None:
    state_path().unlink(missing_ok=True)
