"""churnguard.dataapi under a Deadline, on botocore's Stubber: no call starts after the deadline, a
resuming cluster is waited for only while the deadline allows, and from_boto3 builds a bounded client.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import boto3
import pytest
from botocore.stub import Stubber

from churnguard.dataapi import DataApiClient, DatabaseStillResuming
from churnguard.engine.deadline import DatabaseTimeout, Deadline
from churnguard.engine.failures import failure_kind

ARNS = {
    "resource_arn": "arn:aws:rds:us-east-1:123456789012:cluster:churnguard",
    "secret_arn": "arn:aws:secretsmanager:us-east-1:123456789012:secret:app-AbCdEf",
}
RESUMING = "The Aurora DB instance is resuming after being auto-paused."


@pytest.fixture()
def rds_data():
    client = boto3.client(
        "rds-data", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def resuming(stubber: Stubber) -> None:
    stubber.add_client_error(
        "execute_statement", service_error_code="DatabaseResumingException", service_message=RESUMING
    )


def test_no_call_starts_after_the_deadline(rds_data):
    client, _ = rds_data
    api = DataApiClient(client, **ARNS, deadline=Deadline.after(0))
    with pytest.raises(DatabaseTimeout) as raised:
        api.query("SELECT 1")
    assert failure_kind(raised.value) == "timeout"


def test_a_resume_is_waited_for_while_the_deadline_allows(rds_data):
    client, stubber = rds_data
    resuming(stubber)
    stubber.add_response("execute_statement", {"records": [], "columnMetadata": []})
    sleeps: list[float] = []
    api = DataApiClient(
        client, **ARNS, resume_delays_s=(1.0,), sleep=sleeps.append, deadline=Deadline.after(30)
    )
    assert api.query("SELECT 1") == []
    assert sleeps == [1.0]


def test_a_resume_longer_than_the_deadline_allows_is_not_waited_for(rds_data):
    client, stubber = rds_data
    resuming(stubber)
    sleeps: list[float] = []
    api = DataApiClient(
        client, **ARNS, resume_delays_s=(4.0, 8.0), sleep=sleeps.append, deadline=Deadline.after(3)
    )
    with pytest.raises(DatabaseStillResuming, match="try again in 15 s") as raised:
        api.query("SELECT 1")
    assert sleeps == [] and raised.value.retry_after_s == 15
    assert failure_kind(raised.value) == "resuming"


class SlowRdsData:
    """An rds-data client whose calls take `seconds` (a Data API stuck on a stalled cluster)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def execute_statement(self, **_request):
        time.sleep(self.seconds)
        return {"records": [], "columnMetadata": []}


def test_a_call_is_given_up_on_when_the_deadline_passes_not_when_its_read_timeout_does():
    api = DataApiClient(SlowRdsData(3.0), **ARNS, deadline=Deadline.after(0.3))
    started = time.monotonic()
    with pytest.raises(DatabaseTimeout, match=r"within 0\.3 s \(waiting for the RDS Data API\)"):
        api.query("SELECT 1")
    assert time.monotonic() - started < 2.0  # well before the call's own 3 s


def test_without_a_deadline_a_call_is_waited_for():
    assert DataApiClient(SlowRdsData(0.2), **ARNS).query("SELECT 1") == []


def test_from_boto3_builds_a_bounded_client(monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    api = DataApiClient.from_boto3(**ARNS, database="churnguard")
    config = api._rds_data.meta.config
    assert (config.connect_timeout, config.read_timeout) == (3.0, 50.0)
    assert config.retries["mode"] == "standard"


class _HungDataApi:
    """An rds-data client whose calls hang for `hang_s` (a frozen endpoint), counting the calls."""

    def __init__(self, hang_s: float) -> None:
        self.hang_s = hang_s
        self.started = 0

    def execute_statement(self, **request: object) -> dict[str, object]:
        self.started += 1
        time.sleep(self.hang_s)
        return {"records": [], "columnMetadata": []}


def test_calls_given_up_on_never_queue_the_next_answer_s_calls():
    """Every call starts at once, however many earlier calls are still hanging on their timeouts."""
    hung = _HungDataApi(hang_s=3.0)
    for _ in range(6):
        api = DataApiClient(hung, **ARNS, deadline=Deadline.after(0.2))  # type: ignore[arg-type]
        with pytest.raises(DatabaseTimeout):
            api.query("SELECT 1")
    assert hung.started == 6


def test_a_command_whose_call_was_given_up_on_exits_at_once():
    """The prompt comes back at the deadline, not when the abandoned call's own timeouts end."""
    script = (
        "import time\n"
        "from churnguard.dataapi import DataApiClient\n"
        "from churnguard.engine.deadline import DatabaseTimeout, Deadline\n"
        "class Hung:\n"
        "    def execute_statement(self, **request):\n"
        "        time.sleep(60)\n"
        "api = DataApiClient(Hung(), resource_arn='r', secret_arn='s', deadline=Deadline.after(0.3))\n"
        "try:\n"
        "    api.query('SELECT 1')\n"
        "except DatabaseTimeout:\n"
        "    print('timed out', flush=True)\n"
    )
    started = time.monotonic()
    finished = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=50,
        check=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert finished.stdout.strip() == "timed out"
    assert time.monotonic() - started < 30  # the abandoned call would hold the process for 60 s
