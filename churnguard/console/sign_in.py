"""The local console's sign-in: one random token per run, without which nothing is served.

127.0.0.1 keeps other machines out, not other programs or users of this one. So `churnguard console`
makes a token (secrets.token_urlsafe: 256 random bits) and prints the console's address with it
(`http://127.0.0.1:<port>/?token=<token>`). Opening that address sets the token in a cookie the page's
scripts cannot read (HttpOnly), that the browser sends only to this origin's own pages and calls
(SameSite=Strict), and redirects to `/`, so the token leaves the address bar and the history. A program
may send it as `Authorization: Bearer <token>` instead. Every request without it, the page and its
files included, gets 401. Tokens are compared in constant time (secrets.compare_digest).
"""

from __future__ import annotations

import secrets
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

TOKEN_PARAMETER = "token"  # noqa: S105 (the query parameter's name, not a token)
NOT_SIGNED_IN = (
    "open the address `churnguard console` printed (it ends in ?token=...): this request does not "
    "carry its token, or the console was restarted since (each run has a new one)"
)
# RFC 9110 §15.5.2: a 401 names the scheme that would be accepted.
_CHALLENGE = {"www-authenticate": 'Bearer realm="churnguard console"'}


def new_token() -> str:
    return secrets.token_urlsafe(32)


def signed_in_url(base_url: str, token: str) -> str:
    """The address to open: the console's URL with the run's token."""
    return f"{base_url.rstrip('/')}/?{urlencode({TOKEN_PARAMETER: token})}"


def cookie_name(port: int | None) -> str:
    # Browsers keep one cookie jar per host, whatever the port: two consoles on 127.0.0.1 (different
    # ports, different tokens) would overwrite each other's cookie under one name.
    return f"churnguard_console_{port or 80}"


class TokenGate:
    """Passes on to `app` only requests carrying the run's token (cookie or bearer header); trades a
    `GET /?token=` with the right token for the cookie; answers 401 to everything else."""

    def __init__(self, app: ASGIApp, *, token: str) -> None:
        self.app = app
        self._token = token.encode()

    def _matches(self, offered: str | None) -> bool:
        return offered is not None and secrets.compare_digest(offered.encode(), self._token)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        cookie = cookie_name(request.url.port)
        offered = request.query_params.get(TOKEN_PARAMETER)
        if request.method == "GET" and request.url.path == "/" and offered is not None:
            response = self._sign_in(offered, cookie)
        elif self._matches(request.cookies.get(cookie)) or self._matches(_bearer(request)):
            await self.app(scope, receive, send)
            return
        else:
            response = _unauthorized(request)
        await response(scope, receive, send)

    def _sign_in(self, offered: str, cookie: str) -> Response:
        if not self._matches(offered):
            return PlainTextResponse(f"401: {NOT_SIGNED_IN}", status_code=401, headers=_CHALLENGE)
        # 303: the browser fetches / with GET, and the address it shows no longer has the token.
        response = RedirectResponse("/", status_code=303)
        response.set_cookie(cookie, offered, path="/", httponly=True, samesite="strict")
        return response


def _bearer(request: Request) -> str | None:
    scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
    return credentials.strip() if scheme.lower() == "bearer" else None


def _unauthorized(request: Request) -> Response:
    if request.url.path.startswith("/api/"):
        return JSONResponse(
            {"error": NOT_SIGNED_IN, "kind": "unauthorized"}, status_code=401, headers=_CHALLENGE
        )
    return PlainTextResponse(f"401: {NOT_SIGNED_IN}", status_code=401, headers=_CHALLENGE)
