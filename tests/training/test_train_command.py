"""`churnguard train` as a user runs it: files written, summary printed, clear errors for bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from churnguard.cli import main
from training.synthetic import generate_customers


def test_training_from_a_csv_writes_the_artifacts_and_prints_a_summary(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "customers.csv"
    generate_customers(800, seed=4).to_csv(data, index=False)
    out = tmp_path / "model"
    assert main(["train", "--data", str(data), "--out", str(out), "--trials", "2", "--seed", "4"]) == 0
    for name in ("model.tar.gz", "model.json", "metadata.json", "report.html"):
        assert (out / name).is_file()
    captured = capsys.readouterr()
    assert "cut-off 0." in captured.out and "test AUC full" in captured.out
    assert "expected on new customers: AUC" in captured.out and "95% interval" in captured.out
    assert "searching the full model" in captured.err  # progress goes to stderr


def test_a_bad_file_exits_2_listing_its_problems(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "customers.csv"
    customers = generate_customers(50, seed=4)
    customers["day_mins"] = customers["day_mins"].astype(object)
    customers.loc[5, "day_mins"] = "n/a"
    customers.to_csv(data, index=False)
    assert main(["train", "--data", str(data), "--out", str(tmp_path / "model")]) == 2
    error = capsys.readouterr().err
    assert "row 6 (line 7), column 'day_mins': 'n/a' is not a number" in error
    assert not (tmp_path / "model").exists()


def test_sagemaker_mode_needs_a_bucket_and_a_role(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["train", "--sagemaker", "--rows", "200", "--out", str(tmp_path)]) == 2
    assert "--sagemaker needs --stage (to read the deployed stack's outputs) or --bucket and --role-arn" in (
        capsys.readouterr().err
    )


def test_trial_selection_option_reaches_the_search(tmp_path: Path) -> None:
    out = tmp_path / "model"
    args = ["train", "--rows", "800", "--out", str(out), "--trials", "2", "--seed", "4"]
    assert main([*args, "--trial-selection", "auc"]) == 0
    metadata = json.loads((out / "metadata.json").read_text(encoding="utf-8"))
    assert metadata["search"]["trial_selection"] == "auc"


def test_too_few_synthetic_rows_is_refused_naming_the_option(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["train", "--rows", "99", "--out", str(tmp_path / "model")]) == 2
    assert "--rows must be at least 100 for a meaningful split (got 99)" in capsys.readouterr().err
    assert not (tmp_path / "model").exists()
