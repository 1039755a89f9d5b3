"""Lambda bundles are plain folders: handler folder + churnguard/ + generated files."""

from __future__ import annotations

from pathlib import Path

import pytest

import infra.lambda_assets as lambda_assets
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
