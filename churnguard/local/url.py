"""Which database a command uses: --db-url, then $CHURNGUARD_DB_URL, then the server `local up` recorded."""

from __future__ import annotations

import os

from churnguard.errors import UserError
from churnguard.local.state import read_state

DB_URL_ENV = "CHURNGUARD_DB_URL"


def resolve_url(explicit: str | None) -> str:
    """The database URL to use: `explicit` (--db-url), then $CHURNGUARD_DB_URL, then the local server's."""
    if explicit:
        return explicit
    from_env = os.environ.get(DB_URL_ENV)
    if from_env:
        return from_env
    state = read_state()
    if state is not None:
        return state.url
    raise UserError(
        f"no database: pass --db-url, set ${DB_URL_ENV}, or start a local one with `churnguard local up`"
    )
