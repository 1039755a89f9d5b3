"""Finding and reading the synthesized templates in a cloud assembly folder."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from churnguard.cost.templates import find_template_files, read_templates
from churnguard.errors import UserError
from tests.cost.templates import always_on_stack, write_assembly


def test_missing_folder_names_make_synth(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="run `make synth` first"):
        find_template_files(tmp_path / "cdk.out")


def test_folder_without_templates_names_make_synth(tmp_path: Path) -> None:
    with pytest.raises(UserError, match=r"no synthesized templates \(\*\.template\.json\).*make synth"):
        find_template_files(tmp_path)


def test_manifest_decides_which_templates_count(tmp_path: Path) -> None:
    write_assembly(tmp_path, {"churnguard": always_on_stack()})
    (tmp_path / "OldStack.template.json").write_text(json.dumps(always_on_stack()), encoding="utf-8")

    assert [path.name for path in find_template_files(tmp_path)] == ["churnguard.template.json"]


def test_without_manifest_every_template_file_is_read(tmp_path: Path) -> None:
    for name in ("a", "b"):
        (tmp_path / f"{name}.template.json").write_text(json.dumps(always_on_stack()), encoding="utf-8")

    templates = read_templates(tmp_path)
    assert [template.stack_name for template in templates] == ["a", "b"]
    assert "Nat" in templates[0].resources


def test_broken_template_is_named(tmp_path: Path) -> None:
    (tmp_path / "broken.template.json").write_text("{", encoding="utf-8")
    with pytest.raises(UserError, match=r"broken\.template\.json is not valid JSON"):
        read_templates(tmp_path)


def test_broken_manifest_is_named(tmp_path: Path) -> None:
    write_assembly(tmp_path, {"churnguard": always_on_stack()})
    (tmp_path / "manifest.json").write_text('{"artifacts": ', encoding="utf-8")
    with pytest.raises(UserError, match=r"cloud assembly manifest .*manifest\.json is not valid JSON"):
        find_template_files(tmp_path)
