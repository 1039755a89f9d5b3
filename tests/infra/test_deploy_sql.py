"""Naming the bundled SQL files: the bootstrap applies them in name order, the rendered order."""

from __future__ import annotations

from pathlib import Path

import pytest

import infra.bootstrap as bootstrap
from churnguard.sqlgen.files import SqlFile
from infra.bootstrap import deploy_sql_files, sql_digest


def render_as(files: list[SqlFile]):
    def render(
        model_dir: Path, *, inference_mode: str, endpoint_name: str | None, **call_reasons: str
    ) -> list[SqlFile]:
        return files

    return render


def test_names_already_in_order_are_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        bootstrap, "render_deploy_sql", render_as([SqlFile("10_a.sql", "A"), SqlFile("90_b.sql", "B")])
    )
    files = deploy_sql_files(Path("model"), inference_mode="endpoint", endpoint_name="e")
    assert files == [SqlFile("10_a.sql", "A"), SqlFile("90_b.sql", "B")]


def test_names_out_of_order_are_numbered_in_rendered_order(monkeypatch: pytest.MonkeyPatch) -> None:
    rendered = [SqlFile("schema.sql", "S"), SqlFile("functions.sql", "F"), SqlFile("schema.sql", "again")]
    monkeypatch.setattr(bootstrap, "render_deploy_sql", render_as(rendered))
    files = deploy_sql_files(Path("model"), inference_mode="in_database", endpoint_name=None)
    assert [f.name for f in files] == ["010_schema.sql", "020_functions.sql", "030_schema.sql"]
    assert sorted(f.name for f in files) == [f.name for f in files]
    assert [f.text for f in files] == ["S", "F", "again"]


def test_digest_changes_with_any_name_or_text() -> None:
    base = [SqlFile("10_a.sql", "SELECT 1;")]
    assert sql_digest(base) == sql_digest([SqlFile("10_a.sql", "SELECT 1;")])
    assert sql_digest(base) != sql_digest([SqlFile("10_a.sql", "SELECT 2;")])
    assert sql_digest(base) != sql_digest([SqlFile("11_a.sql", "SELECT 1;")])
    assert sql_digest([SqlFile("a", "bc")]) != sql_digest([SqlFile("ab", "c")])
