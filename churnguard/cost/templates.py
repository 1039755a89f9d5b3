"""Reads the CloudFormation templates `make synth` writes into cdk.out.

The cloud assembly's manifest.json names each stack's template, so stale files from an earlier synth
are not counted; without a manifest every `*.template.json` in the folder is read.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from churnguard.errors import UserError


@dataclass(frozen=True)
class StackTemplate:
    stack_name: str
    path: Path
    resources: dict[str, dict[str, Any]]


def find_template_files(cdk_out: Path) -> list[Path]:
    if not cdk_out.is_dir():
        raise UserError(f"no synthesized templates: {cdk_out} does not exist; run `make synth` first")
    manifest = cdk_out / "manifest.json"
    files: list[Path] = []
    if manifest.is_file():
        artifacts = _read_json(manifest, "cloud assembly manifest").get("artifacts", {})
        for artifact in artifacts.values():
            if artifact.get("type") == "aws:cloudformation:stack":
                template_file = artifact.get("properties", {}).get("templateFile")
                if template_file:
                    files.append(cdk_out / template_file)
        files += sorted(cdk_out.glob("*.nested.template.json"))
    else:
        files = sorted(cdk_out.glob("*.template.json"))
    files = [path for path in dict.fromkeys(files) if path.is_file()]
    if not files:
        raise UserError(f"no synthesized templates (*.template.json) in {cdk_out}; run `make synth` first")
    return files


def read_templates(cdk_out: Path) -> list[StackTemplate]:
    templates = []
    for path in find_template_files(cdk_out):
        body = _read_json(path, "template")
        stack_name = path.name.removesuffix(".template.json")
        templates.append(StackTemplate(stack_name, path, body.get("Resources", {})))
    return templates


def _read_json(path: Path, what: str) -> dict[str, Any]:
    """A JSON file of the cloud assembly; a broken one (an interrupted synth) is named, not a traceback."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise UserError(f"{what} {path} is not valid JSON: {error}; run `make synth` again") from error
