"""The local console's ASGI application: the page, its two static assets and the JSON API, in one app.

The API takes POSTed JSON only, so phone numbers and messages never appear in a URL (nor in any
access log that prints URLs), and a page on another site cannot call it: a JSON POST from another
origin needs a CORS preflight this app never grants. Hosts other than the loopback names are refused
(DNS rebinding). Every response carries headers that keep the page from being framed or sniffed and
allow scripts and styles from the app itself only.
"""

from __future__ import annotations

import json
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

# The message is cut to Comprehend's 5,000 bytes anyway; a body far beyond that is not a call.
MAX_BODY_BYTES = 64 * 1024
LOOPBACK_HOSTS = ("127.0.0.1", "localhost")
SECURITY_HEADERS = {
    "content-security-policy": "default-src 'none'; script-src 'self'; style-src 'self'; "
    "img-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "cache-control": "no-store",
}
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
    """Adds SECURITY_HEADERS to every response the app sends."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers.extend((name.encode(), value.encode()) for name, value in SECURITY_HEADERS.items())
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def build_app(service: ConsoleService, *, allowed_hosts: tuple[str, ...] = LOOPBACK_HOSTS) -> Starlette:
    """The console for `service`: GET / and its assets, POST /api/customer|recommend|outcome."""
    files = {path: (asset(name), media_type) for path, (name, media_type) in ASSETS.items()}

    async def local_config(request: Request) -> Response:
        # The page's API is on its own origin and needs no sign-in on 127.0.0.1 (the deployed page's
        # config.json names the API Gateway URL and the Cognito client instead: infra/console.py).
        return JSONResponse({"api_base": "", "auth": None})

    async def page(request: Request) -> Response:
        content, media_type = files[request.url.path]
        return Response(content, media_type=media_type)

    def api(call: str, action: Any) -> Route:
        async def endpoint(request: Request) -> Response:
            body, refused = await _json_body(request)
            if refused is not None:
                return refused
            status, payload = await run_in_threadpool(handle, call, action, body)
            return JSONResponse(payload, status_code=status)

        return Route(f"/api/{call}", endpoint, methods=["POST"])

    return Starlette(
        routes=[
            *(Route(path, page, methods=["GET"]) for path in files),
            Route("/config.json", local_config, methods=["GET"]),
            api("customer", service.customer),
            api("recommend", service.recommend),
            api("outcome", service.outcome),
        ],
        middleware=[
            Middleware(TrustedHostMiddleware, allowed_hosts=list(allowed_hosts)),
            Middleware(SecurityHeaders),
        ],
    )


async def _json_body(request: Request) -> tuple[Any, Response | None]:
    """The request's JSON body, or the response refusing it (wrong type, too large, not JSON)."""
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
        return None, _refusal(415, "send the request as JSON (content-type application/json)")
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        return None, _refusal(413, f"the request is larger than {MAX_BODY_BYTES // 1024} KB")
    raw = b""
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > MAX_BODY_BYTES:
            return None, _refusal(413, f"the request is larger than {MAX_BODY_BYTES // 1024} KB")
    try:
        return json.loads(raw), None
    except (ValueError, UnicodeDecodeError):
        return None, _refusal(400, "the request body is not valid JSON")


def _refusal(status: int, message: str) -> Response:
    return JSONResponse({"error": message, "kind": "bad_request"}, status_code=status)
