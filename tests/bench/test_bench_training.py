"""bench/bench_training.py: the JSON lines a training change is judged by (issues 14 and 28), one per run
and a summary over the seeds, with the field names the experiment logs in docs/experiments/ quote.

One trial per run (the reference's hyper-parameters, early stopped) keeps each run to seconds; what is
checked is what the lines say, not how good the model is.
"""

from __future__ import annotations

import importlib.util
import json
import statistics
import sys
from pathlib import Path

import pytest

BENCH_PATH = Path(__file__).resolve().parents[2] / "bench" / "bench_training.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench_training", BENCH_PATH)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    # Run as a script, the bench finds its neighbour public_data.py on sys.path[0], its own folder.
    sys.path.insert(0, str(BENCH_PATH.parent))
    try:
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(BENCH_PATH.parent))
    return module


def lines_of(bench, capsys, *argv: str) -> list[dict]:
    assert bench.main(["--trials", "1", *argv]) == 0
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def test_one_line_per_seed_then_a_summary_of_their_figures(bench, capsys):
    *runs, summary = lines_of(
        bench, capsys, "--datasets", "synthetic-3333", "--splits", "project", "--seeds", "1", "2"
    )
    assert [run["seed"] for run in runs] == [1, 2]
    for run in runs:
        assert run["dataset"] == "synthetic-3333" and run["split"] == "project"
        assert run["rows"] == 3333 and run["test_rows"] == 333
        assert 0.5 < run["test_auc_reduced"] <= 1 and run["features_kept"] <= run["features_full"]
        assert run["cost_best_cutoff_on_test_per_customer"] <= run["cost_per_customer"]
        assert run["cost_per_customer"] <= run["cost_do_nothing_per_customer"]
    assert summary["summary"] is True and summary["seeds"] == [1, 2]
    for name in ("test_auc_reduced", "cost_per_customer", "cv_auc_mean"):
        values = [run[name] for run in runs]
        assert summary[name] == {
            "mean": round(statistics.fmean(values), 4),
            "min": round(min(values), 4),
            "max": round(max(values), 4),
        }
    assert isinstance(summary["meets_project_targets"], bool)
    # The reference configuration on the same rows, paired with the pipeline seed by seed.
    differences = [run["test_auc_reduced"] - run["test_auc_reference"] for run in runs]
    assert min(run["test_auc_reference"] for run in runs) > 0.5
    assert summary["auc_vs_reference"]["mean"] == round(statistics.fmean(differences), 4)
    assert summary["auc_vs_reference"]["standard_error"] == round(statistics.stdev(differences) / 2**0.5, 4)
    assert summary["at_or_above_reference"] == (statistics.fmean(differences) >= 0)


def test_a_small_table_is_scored_on_the_other_customers_beside_the_reference_configuration(
    bench, capsys, public_data_path
):
    line, summary = lines_of(bench, capsys, "--small-tables", "425", "--seeds", "3")
    assert line["table_rows"] == 425 and line["other_rows"] == 3333 - 425
    assert 0.5 < line["other_auc"] <= 1 and 0.5 < line["reference_auc"] <= 1
    assert line["reference_cost_per_customer"] > 0
    assert line["trees"] >= 1 and line["features"] >= 1
    assert summary["other_auc"] == {"mean": line["other_auc"], "min": line["other_auc"]}
    assert summary["auc_vs_reference"]["mean"] == round(line["other_auc"] - line["reference_auc"], 4)
    assert summary["cost_vs_reference"]["mean"] == round(
        line["other_cost_per_customer"] - line["reference_cost_per_customer"], 4
    )
    assert summary["meets_targets"] == (
        line["other_auc"] >= line["reference_auc"] and line["other_auc"] >= bench.SMALL_TABLE_MIN_AUC
    )
    # One run has no spread: the summary says so instead of failing.
    assert summary["auc_vs_reference"]["standard_error"] is None


def test_fresh_customers_score_one_seed_and_its_summary_has_no_spread(bench, capsys):
    line, summary = lines_of(bench, capsys, "--fresh-customers", "2000", "--seeds", "4")
    assert line["fresh"] is True and line["fresh_rows"] == 2000 and line["fresh_seed"] == bench.FRESH_SEED
    assert 0.5 < line["fresh_auc"] <= 1 and line["fresh_cost_per_customer"] > 0
    assert summary["runs"] == 1
    assert summary["fresh_auc"] == {"mean": line["fresh_auc"], "std": None}
    assert 0.5 < line["fresh_auc_reference"] <= 1 and line["fresh_cost_per_customer_reference"] > 0
    assert summary["cost_vs_reference"] == {
        "mean": round(line["fresh_cost_per_customer"] - line["fresh_cost_per_customer_reference"], 4),
        "standard_error": None,
    }


def test_the_reference_configuration_is_judged_by_cost_beside_every_judge(bench, capsys):
    """Issue 28's yardstick on both of the pipeline's figures: a higher AUC bought with a higher
    business cost shows on every judge's lines and in the paired differences of its summary."""
    *runs, summary = lines_of(
        bench, capsys, "--datasets", "synthetic-3333", "--splits", "project", "--seeds", "1", "2"
    )
    costs = [(run["cost_per_customer"], run["cost_per_customer_reference"]) for run in runs]
    assert all(reference > 0 for _, reference in costs)
    differences = [ours - reference for ours, reference in costs]
    assert summary["cost_vs_reference"] == {
        "mean": round(statistics.fmean(differences), 4),
        "standard_error": round(statistics.stdev(differences) / 2**0.5, 4),
    }
    *outer_folds, nested = lines_of(
        bench, capsys, "--datasets", "synthetic-3333", "--nested-folds", "2", "--seeds", "5"
    )
    assert [line["outer_fold"] for line in outer_folds] == [1, 2]
    for line in outer_folds:
        assert 0.5 < line["outer_auc_reference"] <= 1 and line["outer_cost_per_customer_reference"] > 0
    assert nested["auc_vs_reference"]["mean"] == round(
        statistics.fmean(line["outer_auc"] - line["outer_auc_reference"] for line in outer_folds), 4
    )
    assert nested["outer_cost_per_customer_reference"]["mean"] == round(
        statistics.fmean(line["outer_cost_per_customer_reference"] for line in outer_folds), 4
    )


def test_the_reference_configuration_gives_the_same_figures_for_the_same_rows_and_seed(bench):
    customers = bench.generate_customers(1200, 8)
    trained, scored = customers.iloc[:900], customers.iloc[900:]
    first = bench.reference_configuration(trained, scored, 3)
    assert bench.reference_configuration(trained, scored, 3) == first
    assert set(first) == {"auc", "cost_per_customer"} and 0.5 < first["auc"] <= 1
