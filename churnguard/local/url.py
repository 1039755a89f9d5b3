"""Which database a command uses: --db-url, then $CHURNGUARD_DB_URL, then the server `local up` recorded."""

from __future__ import annotations

import os

from churnguard.errors import UserError
from churnguard.local.state import read_state

DB_URL_ENV = "CHURNGUARD_DB_URL"


def resolve_url(explicit: str | None, *, as_api_user: bool = False) -> str:
    """The database URL to use: `explicit` (--db-url), then $CHURNGUARD_DB_URL, then the local server's.

    `as_api_user` (the agent console, which the deployed console's Lambda mirrors): the local server's
    API user when `local up` recorded one (its table-level grants, churnguard.bootstrap.app_user),
    else the app user."""
    if explicit:
        return explicit
    from_env = os.environ.get(DB_URL_ENV)
    if from_env:
        return from_env
    state = read_state()
    if state is not None:
        return state.api_url if as_api_user and state.api_url else state.url
    raise UserError(
        f"no database: pass --db-url, set ${DB_URL_ENV}, or start a local one with `churnguard local up`"
    )
