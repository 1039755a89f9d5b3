"""`churnguard cost` as a user runs it: text by default, one JSON object as the last line with --json."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from churnguard.cli import main
from tests.cost.templates import always_on_stack, idle_isolated_stack, write_assembly


def test_json_flag_prints_one_json_object_as_the_last_line(
    tmp_path: Path, price_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assembly = write_assembly(tmp_path / "cdk.out", {"churnguard": idle_isolated_stack()})

    assert main(["cost", "--templates", str(assembly), "--prices", str(price_file), "--json"]) == 0

    last_line = capsys.readouterr().out.strip().splitlines()[-1]
    document = json.loads(last_line)
    assert document["idle_usd_per_hour"] == pytest.approx(0.08 + 2.5053 / 730, abs=1e-6)
    assert document["monthly_usd"] == pytest.approx(60.9053, abs=1e-3)


def test_default_output_is_the_text_report_with_shipped_prices(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assembly = write_assembly(tmp_path / "cdk.out", {"churnguard": idle_isolated_stack()})

    assert main(["cost", "--templates", str(assembly), "--max-usd-per-hour", "0.10"]) == 0

    out = capsys.readouterr().out
    assert "Total idle: $" in out
    assert "Reference deployment: $1.15/hour" in out


def test_budget_exceeded_exits_1_and_keeps_json_last(
    tmp_path: Path, price_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assembly = write_assembly(tmp_path / "cdk.out", {"churnguard": always_on_stack()})

    code = main(
        [
            "cost",
            "--templates",
            str(assembly),
            "--prices",
            str(price_file),
            "--json",
            "--max-usd-per-hour",
            "0.10",
        ]
    )

    captured = capsys.readouterr()
    assert code == 1
    assert "exceeds the budget $0.1000/hour" in captured.err
    assert json.loads(captured.out.strip().splitlines()[-1])["idle_usd_per_hour"] > 0.10


def test_missing_templates_fail_with_a_message_naming_make_synth(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["cost", "--templates", str(tmp_path / "cdk.out")]) == 2
    assert "run `make synth` first" in capsys.readouterr().err
