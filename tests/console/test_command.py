"""`churnguard console` as a person runs it: a process serving 127.0.0.1 only, whose output and logs
never hold a phone number or a message, and one-line errors for bad options."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from http.cookiejar import CookieJar

import pytest

from churnguard.cli import main
from tests.console.conftest import HIGH_RISK, NEGATIVE_MESSAGE

pytestmark = pytest.mark.mariadb
START_TIMEOUT_S = 60


def test_console_serves_on_loopback_and_logs_no_customer_data(console_db_url, trained_model_dir):
    command = [sys.executable, "-m", "churnguard.cli", "console", "--port", "0"]
    command += ["--db-url", console_db_url, "--model", str(trained_model_dir)]
    process = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        first_line = process.stdout.readline()
        match = re.match(r"agent console: (http://127\.0\.0\.1:(\d+)/)\?token=([\w-]{43}) ", first_line)
        assert match, first_line + process.stderr.read() if process.poll() is not None else first_line
        url, token = match.group(1), match.group(3)
        assert _get(url)[0] == 401  # the page without the token
        assert _post(url + "api/customer", HIGH_RISK)[0] == 401
        # The printed address, opened as a browser does: the token traded for a cookie, then the page.
        browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
        with browser.open(f"{url}?token={token}", timeout=30) as page:
            assert page.url == url and "churnguard agent console" in page.read().decode()
        status, answer = _post(url + "api/recommend", {**HIGH_RISK, "message": NEGATIVE_MESSAGE}, token)
        assert status == 200 and answer["offer"] == "credit_25"
        assert _post(url + "api/customer", {**HIGH_RISK, "phone": "35-81921"}, token)[0] == 400
    finally:
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)
    output = first_line + out + err
    assert "358-1921" not in output and "35-81921" not in output and "morons" not in output
    assert output.count(token) == 1  # printed once, in the address, and never logged
    assert "Traceback" not in output
    with socket.socket() as probe:  # stopped: nothing listens on its port any more
        assert probe.connect_ex(("127.0.0.1", int(match.group(2)))) != 0


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:  # noqa: S310 (our own loopback URL)
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def _post(url: str, body: dict, token: str | None = None) -> tuple[int, dict]:
    headers = {"content-type": "application/json"}
    if token is not None:
        headers["authorization"] = f"Bearer {token}"
    request = urllib.request.Request(  # noqa: S310 (our own loopback URL)
        url, data=json.dumps(body).encode(), headers=headers, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


@pytest.mark.parametrize(
    ("arguments", "words"),
    [
        (["--port", "70000"], "--port must be between 0 and 65535"),
        (["--timeout", "0"], "--timeout must be between 0.1 and 60 seconds"),
        (["--db-url", "postgres://x@y/z"], "database URL must start with mysql://"),
    ],
)
def test_bad_options_are_one_line_errors(arguments, words, capsys, trained_model_dir):
    assert main(["console", "--model", str(trained_model_dir), *arguments]) == 2
    err = capsys.readouterr().err
    assert words in err and err.count("\n") == 1
