"""aws_client: every boto3 client churnguard builds gives up instead of hanging."""

import socket

import pytest
from botocore.exceptions import ReadTimeoutError

from churnguard.aws_clients import aws_client


def test_client_carries_timeouts_and_standard_retries() -> None:
    client = aws_client("rds-data", region_name="us-east-1", read_timeout=7.5, max_attempts=2)

    config = client.meta.config
    assert config.connect_timeout == 3.0
    assert config.read_timeout == 7.5
    assert config.retries == {"mode": "standard", "total_max_attempts": 2}


def test_a_silent_endpoint_raises_a_read_timeout_instead_of_hanging(monkeypatch) -> None:
    # A server that accepts the connection and never answers: what a stalled service looks like.
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(4)
        port = silent.getsockname()[1]
        client = aws_client("comprehend", region_name="us-east-1", read_timeout=0.3, max_attempts=1)
        client.meta.events.register(
            "before-sign.*.*",
            lambda request, **_: setattr(request, "url", f"http://127.0.0.1:{port}/"),
        )
        with pytest.raises(ReadTimeoutError):
            client.detect_sentiment(Text="fine", LanguageCode="en")
