"""The deployed page's sign-in (auth.js) in headless Chromium, against a stand-in for Cognito's managed
login on loopback: the code flow with PKCE, the token kept in the page's memory only, and sign-out through
Cognito's /logout endpoint (docs/console.md quotes AWS's pages).

The stand-in serves the page's own files with a config.json naming itself as the Cognito domain and the
API, as the deployed bucket does; it checks the PKCE verifier against the challenge it was sent, as
Cognito's token endpoint does, and records what the page sends.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlencode

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from churnguard.console.app import ASSETS, asset
from churnguard.console.server import serving_in_background
from tests.console.test_page import WAIT_S, look_up, open_console, text, wait_visible

CLIENT_ID = "console-client"
CUSTOMER = {"area_code": 415, "phone": "358-1921"}


@dataclass
class FakeCognito:
    """What the page asked of the sign-in stand-in and its API."""

    challenges: dict[str, str] = field(default_factory=dict)  # code -> PKCE challenge
    issued: list[str] = field(default_factory=list)
    bearer_tokens: list[str | None] = field(default_factory=list)
    logouts: list[dict[str, str]] = field(default_factory=list)
    base: str = ""


def fake_deployment(cognito: FakeCognito) -> Starlette:
    def page_file(path: str, name: str, media_type: str) -> Route:
        return Route(path, lambda _: Response(asset(name), media_type=media_type))

    async def config(_: Request) -> JSONResponse:
        auth = {"domain": cognito.base.rstrip("/"), "client_id": CLIENT_ID, "redirect_uri": cognito.base}
        return JSONResponse({"api_base": cognito.base.rstrip("/"), "auth": auth})

    async def authorize(request: Request) -> Response:
        query = request.query_params
        assert (query["client_id"], query["code_challenge_method"]) == (CLIENT_ID, "S256")
        code = secrets.token_hex(8)
        cognito.challenges[code] = query["code_challenge"]
        return RedirectResponse(
            f"{query['redirect_uri']}?{urlencode({'code': code, 'state': query['state']})}"
        )

    async def token(request: Request) -> JSONResponse:
        form = parse_qs((await request.body()).decode())  # application/x-www-form-urlencoded
        form = {name: values[0] for name, values in form.items()}
        challenge = cognito.challenges.pop(form["code"])
        digest = hashlib.sha256(form["code_verifier"].encode()).digest()
        if base64.urlsafe_b64encode(digest).rstrip(b"=").decode() != challenge:
            return JSONResponse({"error": "invalid_grant"}, status_code=400)
        access = f"access-{secrets.token_hex(8)}"
        cognito.issued.append(access)
        return JSONResponse({"access_token": access, "expires_in": 3600, "token_type": "Bearer"})

    async def logout(request: Request) -> HTMLResponse:
        cognito.logouts.append(dict(request.query_params))
        return HTMLResponse("<p id='signed-out'>signed out</p>")

    async def customer(request: Request) -> JSONResponse:
        cognito.bearer_tokens.append(request.headers.get("authorization"))
        return JSONResponse({**CUSTOMER, "latest_message": "hello", "recent_offers": []})

    return Starlette(
        routes=[
            *(page_file(path, name, media) for path, (name, media) in ASSETS.items()),
            Route("/config.json", config),
            Route("/oauth2/authorize", authorize),
            Route("/oauth2/token", token, methods=["POST"]),
            Route("/logout", logout),
            Route("/api/customer", customer, methods=["POST"]),
        ]
    )


@pytest.fixture()
def signed_in_page(browser) -> Iterator[FakeCognito]:
    cognito = FakeCognito()
    with serving_in_background(fake_deployment(cognito)) as url:
        cognito.base = url
        open_console(browser, url)
        WebDriverWait(browser, WAIT_S).until(lambda page: cognito.issued and "code=" not in page.current_url)
        yield cognito


def test_the_token_is_sent_as_a_bearer_and_never_kept_in_storage(browser, signed_in_page):
    look_up(browser, CUSTOMER)
    wait_visible(browser, "customer")
    assert signed_in_page.bearer_tokens == [f"Bearer {signed_in_page.issued[0]}"]
    stored = browser.execute_script(
        "return JSON.stringify([Object.entries(sessionStorage), Object.entries(localStorage), "
        "document.cookie])"
    )
    assert signed_in_page.issued[0] not in stored
    assert stored == '[[],[],""]'  # the PKCE verifier is gone too once used


def test_sign_out_ends_the_cognito_session_and_forgets_the_token(browser, signed_in_page):
    button = browser.find_element(By.ID, "sign-out")
    assert button.is_displayed()
    button.click()
    WebDriverWait(browser, WAIT_S).until(lambda page: signed_in_page.logouts)
    assert signed_in_page.logouts == [{"client_id": CLIENT_ID, "logout_uri": signed_in_page.base}]
    wait_visible(browser, "signed-out")
    assert text(browser, "signed-out") == "signed out"
