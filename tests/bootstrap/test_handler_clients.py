"""The bootstrap Lambda's entry point builds every AWS client with bounded time (churnguard.aws_clients)."""

from __future__ import annotations

from typing import Any

from tests.bootstrap.conftest import load_handler


def test_on_event_hands_bounded_clients_to_the_bootstrap(monkeypatch) -> None:
    handler = load_handler()
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("CLUSTER_ARN", "arn:aws:rds:us-east-1:123456789012:cluster:churnguard-dev")
    monkeypatch.setenv("ADMIN_SECRET_ARN", "arn:aws:secretsmanager:us-east-1:123456789012:secret:admin")
    monkeypatch.setenv("APP_SECRET_ARN", "arn:aws:secretsmanager:us-east-1:123456789012:secret:app")
    monkeypatch.setenv("API_SECRET_ARN", "arn:aws:secretsmanager:us-east-1:123456789012:secret:api")
    seen: dict[str, Any] = {}

    def capture(event, settings, *, open_client, secretsmanager, s3, aurora):
        seen.update(data_api=open_client(None)._rds_data, secretsmanager=secretsmanager, s3=s3)
        return {"PhysicalResourceId": "captured"}

    monkeypatch.setattr(handler, "handle_event", capture)
    assert handler.on_event({"RequestType": "Create"}, None) == {"PhysicalResourceId": "captured"}

    data_api = seen["data_api"].meta.config
    assert data_api.read_timeout == handler.DATA_API_READ_TIMEOUT_S > 45  # past the Data API's own limit
    for name in ("data_api", "secretsmanager", "s3"):
        config = seen[name].meta.config
        assert config.connect_timeout is not None and config.connect_timeout <= 5, name
        assert config.retries["mode"] == "standard", name
