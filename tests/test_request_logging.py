"""No Lambda function lets the AWS SDK log a request, whatever log level it is configured with.

At DEBUG, botocore logs each request's parameters: for the Data API, the SQL parameters a customer's
phone number and message travel in. Each handler is loaded in a fresh interpreter whose logging is set
to DEBUG (as Lambda's logging configuration can), then a Data API call is made towards a closed port.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
PHONE = "358-1921"
HANDLERS = ("recommend", "console", "db_bootstrap")

PROBE = """
import importlib.util, logging, socket, sys
logging.basicConfig(level=logging.DEBUG, stream=sys.stderr)
logging.getLogger("botocore").setLevel(logging.DEBUG)
sys.path[:0] = [{lambda_dir!r}, {handler_dir!r}]
if {handler!r}:
    spec = importlib.util.spec_from_file_location("loaded_handler", {handler_path!r})
    module = sys.modules["loaded_handler"] = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
import boto3
with socket.socket() as probe:
    probe.bind(("127.0.0.1", 0))
    closed_port = probe.getsockname()[1]
client = boto3.client(
    "rds-data", region_name="eu-west-1", aws_access_key_id="k", aws_secret_access_key="s",
    endpoint_url=f"http://127.0.0.1:{{closed_port}}",
    config=boto3.session.Config(retries={{"max_attempts": 1}}, connect_timeout=1),
)
try:
    client.execute_statement(
        resourceArn="arn:aws:rds:eu-west-1:123456789012:cluster:c",
        secretArn="arn:aws:secretsmanager:eu-west-1:123456789012:secret:app",
        sql="SELECT 1",
        parameters=[{{"name": "phone", "value": {{"stringValue": {phone!r}}}}}],
    )
except Exception:
    pass
"""


def _logs_of_a_call(handler: str) -> str:
    handler_dir = REPO_ROOT / "lambda" / handler
    probe = PROBE.format(
        lambda_dir=str(REPO_ROOT / "lambda"),
        handler_dir=str(handler_dir),
        handler=handler,
        handler_path=str(handler_dir / "handler.py"),
        phone=PHONE,
    )
    completed = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, cwd=REPO_ROOT, timeout=60, check=False
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    return completed.stderr


def test_without_the_guard_botocore_at_debug_logs_the_parameters():
    """The probe's own control: loading no handler, the phone number does reach the log."""
    assert PHONE in _logs_of_a_call("")


@pytest.mark.parametrize("handler", HANDLERS)
def test_loading_a_handler_keeps_request_parameters_out_of_the_log(handler: str):
    logs = _logs_of_a_call(handler)
    assert PHONE not in logs
