"""Lambda bundles are plain folders: the handler folder, the churnguard files it needs, generated files."""

from __future__ import annotations

import importlib.util
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

import infra.lambda_assets as lambda_assets
from infra.api import BUNDLED_MODEL_FILES, MODEL_DIR_IN_BUNDLE
from infra.lambda_assets import MissingHandlerError, stage_bundle


def test_bundle_holds_handler_package_and_extra_files() -> None:
    bundle = stage_bundle(
        "db_bootstrap", handler_module="handler", extra_files={"sql/010_a.sql": b"SELECT 1;"}
    )
    assert (bundle / "handler.py").read_bytes() == (
        lambda_assets.LAMBDA_ROOT / "db_bootstrap/handler.py"
    ).read_bytes()
    assert (bundle / "churnguard" / "__init__.py").is_file()
    assert (bundle / "churnguard" / "dataapi.py").is_file()
    assert (bundle / "sql" / "010_a.sql").read_text() == "SELECT 1;"
    assert not list(bundle.rglob("__pycache__")), "caches would change the asset hash between runs"


def test_missing_handler_fails_with_its_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "recommend").mkdir()
    monkeypatch.setattr(lambda_assets, "LAMBDA_ROOT", tmp_path)
    with pytest.raises(MissingHandlerError, match=r"recommend/handler\.py does not exist"):
        stage_bundle("recommend", handler_module="handler", extra_files={})


def test_extra_file_cannot_escape_the_bundle() -> None:
    with pytest.raises(ValueError, match="outside the bundle"):
        stage_bundle("db_bootstrap", handler_module="handler", extra_files={"../escape.sql": b""})


# What the Lambda Python runtime provides besides the standard library: boto3 and what it needs.
LAMBDA_RUNTIME_PACKAGES = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "six", "urllib3")
NEVER_BUNDLED = ("training/", "churnguard/local/", "churnguard/commands/", "churnguard/teardown/", "xgboost")

# Run with `python -I -S`: only the standard library is on sys.path until the probe adds the bundle
# and the runtime's boto3. The handler answers one request whose AWS calls meet a closed port, so
# every module of the request path, late imports included, is imported from the bundle.
PROBE = """
import json, sys
sys.path[:0] = [{bundle!r}, {runtime!r}]
import handler
try:
    result = handler.{entry}({event!r}, type("Context", (), {{"aws_request_id": "probe"}})())
except Exception as error:  # the bootstrap raises for CloudFormation; the APIs answer
    result = {{"raised": type(error).__name__, "module": type(error).__module__}}
loaded = sorted(
    name for name, module in sys.modules.items()
    if (getattr(module, "__file__", None) or "").startswith({bundle!r})
)
print(json.dumps({{"result": result, "loaded": loaded}}))
"""
SIGNED_IN = {"jwt": {"claims": {"sub": "agent-1"}}}
JSON = {"content-type": "application/json"}
CUSTOMER = {"area_code": 415, "phone": "358-1921", "message": "You charged me twice."}
# The signer a Function URL with AWS_IAM auth names in the event (the recommend API's caller).
SIGNED_BY_IAM = {"iam": {"userArn": "arn:aws:iam::123456789012:user/call-centre"}}
REQUESTS = {
    "recommend": (
        "handler",
        {
            "requestContext": {"http": {"method": "POST"}, "authorizer": SIGNED_BY_IAM},
            "headers": JSON,
            "body": json.dumps(CUSTOMER),
        },
    ),
    "console": (
        "handler",
        {
            "requestContext": {"http": {"method": "POST", "path": "/api/customer"}, "authorizer": SIGNED_IN},
            "headers": JSON,
            "body": json.dumps({"area_code": 415, "phone": "358-1921"}),
        },
    ),
    "db_bootstrap": ("on_event", {"RequestType": "Create", "ResourceProperties": {}}),
}


@pytest.fixture(scope="module")
def lambda_runtime(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding only what the Lambda runtime adds to the standard library (links to this
    environment's copies)."""
    folder = tmp_path_factory.mktemp("lambda-runtime")
    for name in LAMBDA_RUNTIME_PACKAGES:
        origin = Path(importlib.util.find_spec(name).origin)
        source = origin.parent if origin.name == "__init__.py" else origin
        (folder / source.name).symlink_to(source)
    return folder


def _bundle(name: str, model_dir: Path) -> Path:
    extra = {"sql/010_a.sql": b"SELECT 1;"} if name == "db_bootstrap" else {}
    if name != "db_bootstrap":
        extra = {
            f"{MODEL_DIR_IN_BUNDLE}/{file}": (model_dir / file).read_bytes() for file in BUNDLED_MODEL_FILES
        }
    return stage_bundle(name, handler_module="handler", extra_files=extra)


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.parametrize("name", list(REQUESTS))
def test_each_bundle_answers_with_only_itself_and_the_runtimes_boto3(
    name: str, trained_model_dir: Path, lambda_runtime: Path
) -> None:
    bundle = _bundle(name, trained_model_dir)
    entry, event = REQUESTS[name]
    environment = {
        "PATH": os.environ.get("PATH", ""),
        "AWS_DEFAULT_REGION": "eu-west-1",
        "AWS_ACCESS_KEY_ID": "k",
        "AWS_SECRET_ACCESS_KEY": "s",
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{_closed_port()}",
        "CLUSTER_ARN": "arn:aws:rds:eu-west-1:123456789012:cluster:c",
        "APP_SECRET_ARN": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:app",
        "API_SECRET_ARN": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:api",
        "ADMIN_SECRET_ARN": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:admin",
    }
    probe = PROBE.format(bundle=str(bundle), runtime=str(lambda_runtime), entry=entry, event=event)
    completed = subprocess.run(
        [sys.executable, "-I", "-S", "-c", probe],
        capture_output=True,
        text=True,
        cwd=bundle,
        env=environment,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    seen = json.loads(completed.stdout.splitlines()[-1])
    if name == "db_bootstrap":
        # Everything up to the first AWS call ran; that call found no endpoint.
        assert seen["result"] == {"raised": "EndpointConnectionError", "module": "botocore.exceptions"}
    else:
        assert seen["result"]["statusCode"] == 503, seen["result"]
        assert "nothing was recorded" in json.loads(seen["result"]["body"])["error"]
    assert "churnguard.lambda_runtime" in seen["loaded"] or name == "db_bootstrap"


def test_bundles_hold_what_their_handler_imports_and_nothing_else(trained_model_dir: Path) -> None:
    files = {
        name: {path.relative_to(bundle).as_posix() for path in bundle.rglob("*") if path.is_file()}
        for name in REQUESTS
        for bundle in [_bundle(name, trained_model_dir)]
    }
    for name, held in files.items():
        assert not [path for path in held if path.startswith(NEVER_BUNDLED)], name
        assert not [path for path in held if path.endswith((".so", ".dylib"))], name
    assert "churnguard/rules/default.json" in files["recommend"]  # read by load_rules, not imported
    assert "churnguard/console/service.py" in files["console"]
    assert not [path for path in files["recommend"] if path.startswith("churnguard/console/")]
    assert "recommend/handler.py" not in files["console"]  # the console shares churnguard.http_api instead
    assert "churnguard/engine/recommend.py" not in files["db_bootstrap"]
    # The whole package is several times what any handler needs.
    everything = [path for path in (lambda_assets.REPO_ROOT / "churnguard").rglob("*.py")]
    assert all(len(held) < len(everything) / 2 for held in files.values())
