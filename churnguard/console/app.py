"""The local console's ASGI application: the page, its static assets and the JSON API, in one app.

The API takes POSTed JSON only, so phone numbers and messages never appear in a URL (nor in any
access log that prints URLs), and a page on another site cannot call it: a JSON POST from another
origin needs a CORS preflight this app never grants. Every request must carry the run's token
(churnguard.console.sign_in); hosts other than the loopback names are refused (DNS rebinding); bodies
are read within churnguard.json_request's limits. Every response, refusals and errors included, carries
headers that keep the page from being framed or sniffed and allow scripts and styles from the app
itself only. Answers are never stored (no-store); the page's files are revalidated on every load
(no-cache with an ETag), so a new version shows at once and an unchanged one is not sent again.
"""

from __future__ import annotations

import hashlib
from importlib import resources
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from churnguard.console.service import ConsoleService, handle
from churnguard.console.sign_in import TokenGate
from churnguard.json_request import MAX_BODY_BYTES, RequestRefused, check_media_type, parse_json, too_large

LOOPBACK_HOSTS = ("127.0.0.1", "localhost")
SECURITY_HEADERS = {
    "content-security-policy": "default-src 'none'; script-src 'self'; style-src 'self'; "
    "img-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
}
# Any response that says nothing of caching (answers, refusals, errors) is not stored anywhere.
DEFAULT_CACHE_CONTROL = "no-store"
# The page's files: kept, but checked with the server (If-None-Match) before every use.
PAGE_CACHE_CONTROL = "no-cache"
# The page and its assets, shipped as package data (no CDN, no external fonts).
ASSETS = {
    "/": ("index.html", "text/html; charset=utf-8"),
    "/console.css": ("console.css", "text/css; charset=utf-8"),
    "/console.js": ("console.js", "text/javascript; charset=utf-8"),
    "/auth.js": ("auth.js", "text/javascript; charset=utf-8"),
}


def asset(name: str) -> bytes:
    """One of the page's files from the installed package."""
    return resources.files("churnguard.console").joinpath("static", name).read_bytes()


class SecurityHeaders:
    """Adds SECURITY_HEADERS, and Cache-Control where the response set none, to every response of
    `app`: outside Starlette's own error handler, so its 500 carries them too."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers.extend((name.encode(), value.encode()) for name, value in SECURITY_HEADERS.items())
                if not any(name.lower() == b"cache-control" for name, _ in headers):
                    headers.append((b"cache-control", DEFAULT_CACHE_CONTROL.encode()))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def build_app(
    service: ConsoleService, *, token: str, allowed_hosts: tuple[str, ...] = LOOPBACK_HOSTS
) -> ASGIApp:
    """The console for `service`, open to requests carrying `token`: GET / and its assets,
    POST /api/customer|recommend|outcome."""
    files = {path: _PageFile(asset(name), media_type) for path, (name, media_type) in ASSETS.items()}

    async def local_config(request: Request) -> Response:
        # The page's API is on its own origin and signed in by the token's cookie (the deployed page's
        # config.json names the API Gateway URL and the Cognito client instead: infra/console.py).
        return JSONResponse({"api_base": "", "auth": None})

    async def page(request: Request) -> Response:
        return files[request.url.path].response(request)

    def api(call: str, action: Any) -> Route:
        async def endpoint(request: Request) -> Response:
            try:
                body = await _json_body(request)
            except RequestRefused as error:
                return JSONResponse({"error": str(error), "kind": "bad_request"}, status_code=error.status)
            status, payload = await run_in_threadpool(handle, call, action, body)
            retry_after = payload.get("retry_after_s")
            headers = {"retry-after": str(retry_after)} if retry_after else None
            return JSONResponse(payload, status_code=status, headers=headers)

        return Route(f"/api/{call}", endpoint, methods=["POST"])

    app = Starlette(
        routes=[
            *(Route(path, page, methods=["GET"]) for path in files),
            Route("/config.json", local_config, methods=["GET"]),
            api("customer", service.customer),
            api("recommend", service.recommend),
            api("outcome", service.outcome),
        ],
        middleware=[
            Middleware(TrustedHostMiddleware, allowed_hosts=list(allowed_hosts)),
            Middleware(TokenGate, token=token),
        ],
    )
    return SecurityHeaders(app)


class _PageFile:
    """One of the page's files with its ETag (a digest of its bytes), answered 304 when unchanged."""

    def __init__(self, content: bytes, media_type: str) -> None:
        self.content, self.media_type = content, media_type
        self.etag = f'"{hashlib.sha256(content).hexdigest()[:32]}"'

    def response(self, request: Request) -> Response:
        headers = {"etag": self.etag, "cache-control": PAGE_CACHE_CONTROL}
        offered = {tag.strip() for tag in request.headers.get("if-none-match", "").split(",")}
        if self.etag in offered or f"W/{self.etag}" in offered:
            return Response(status_code=304, headers=headers)
        return Response(self.content, media_type=self.media_type, headers=headers)


async def _json_body(request: Request) -> Any:
    """The request's JSON body, or RequestRefused (wrong type 415, too large 413, not JSON 400)."""
    check_media_type(request.headers.get("content-type"))
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise too_large()
    raw = b""
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > MAX_BODY_BYTES:
            raise too_large()
    return parse_json(raw, expected="an object with the call's fields")
