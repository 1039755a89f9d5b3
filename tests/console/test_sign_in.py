"""The local console's per-run token (churnguard.console.sign_in) through Starlette's TestClient:
nothing is served without it, the printed address trades it for a cookie the page's scripts cannot
read and takes it out of the address bar, and a program may send it as a bearer token."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from churnguard.console.app import build_app
from churnguard.console.sign_in import cookie_name, new_token, signed_in_url
from tests.console.conftest import CONSOLE_TOKEN, HIGH_RISK, service_on

pytestmark = pytest.mark.mariadb
PAGE_PATHS = ("/", "/console.js", "/console.css", "/auth.js", "/config.json")
COOKIE = cookie_name(80)  # TestClient's http://127.0.0.1 has no port: 80


@pytest.fixture()
def console(console_db_url, console_engine):
    """The console's app as a browser meets it: no token, no cookie."""
    with (
        service_on(console_db_url, console_engine) as service,
        TestClient(build_app(service, token=CONSOLE_TOKEN), base_url="http://127.0.0.1") as client,
    ):
        yield client


def assert_unauthorized(response) -> None:
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Bearer realm="churnguard console"'
    assert response.headers["cache-control"] == "no-store"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert "?token=" in response.text and CONSOLE_TOKEN not in response.text


def test_nothing_is_served_without_the_token(console):
    for path in PAGE_PATHS:
        assert_unauthorized(console.get(path))
    for call in ("customer", "recommend", "outcome"):
        refused = console.post(f"/api/{call}", json=HIGH_RISK)
        assert_unauthorized(refused)
        assert refused.json()["kind"] == "unauthorized"


@pytest.mark.parametrize(
    "credentials",
    [
        {"params": {"token": "wrong"}},
        {"params": {"token": CONSOLE_TOKEN[:-1]}},
        {"headers": {"authorization": "Bearer wrong"}},
        {"headers": {"authorization": f"Basic {CONSOLE_TOKEN}"}},
        {"headers": {"cookie": f"{COOKIE}=wrong"}},
        {"headers": {"cookie": f"{cookie_name(8765)}={CONSOLE_TOKEN}"}},  # another console's cookie
        {"params": {"token": "t\u00e9"}},
    ],
    ids=[
        "wrong token",
        "token cut short",
        "wrong bearer",
        "not bearer",
        "wrong cookie",
        "other port",
        "non-ascii",
    ],
)
def test_a_wrong_token_is_401(console, credentials):
    assert_unauthorized(console.get("/", **credentials))
    assert_unauthorized(console.post("/api/customer", json=HIGH_RISK, **credentials))


def test_the_printed_address_sets_an_httponly_strict_cookie_and_leaves_the_address_bar(console):
    address = signed_in_url("http://127.0.0.1/", CONSOLE_TOKEN)
    assert address == f"http://127.0.0.1/?token={CONSOLE_TOKEN}"
    signed_in = console.get(address, follow_redirects=False)
    assert signed_in.status_code == 303 and signed_in.headers["location"] == "/"
    cookie = signed_in.headers["set-cookie"]
    attributes = {part.strip().lower() for part in cookie.split(";")}
    assert cookie.startswith(f"{COOKIE}={CONSOLE_TOKEN};")
    assert {"httponly", "samesite=strict", "path=/"} <= attributes
    assert not any(part.startswith(("expires", "max-age", "domain")) for part in attributes)
    page = console.get("/")  # the client now holds the cookie, as the browser does
    assert page.status_code == 200 and "churnguard agent console" in page.text
    for path in PAGE_PATHS:
        assert console.get(path).status_code == 200
    assert console.post("/api/customer", json=HIGH_RISK).status_code == 200


def test_following_the_printed_address_ends_on_the_page(console):
    page = console.get(f"/?token={CONSOLE_TOKEN}")
    assert page.status_code == 200 and str(page.url) == "http://127.0.0.1/"


def test_a_program_may_send_the_token_as_a_bearer_header(console):
    answer = console.post(
        "/api/customer", json=HIGH_RISK, headers={"authorization": f"Bearer {CONSOLE_TOKEN}"}
    )
    assert answer.status_code == 200 and answer.json()["phone"] == "358-1921"


def test_each_run_has_a_new_unguessable_token():
    tokens = {new_token() for _ in range(100)}
    assert len(tokens) == 100 and all(len(token) == 43 for token in tokens)  # 32 random bytes
