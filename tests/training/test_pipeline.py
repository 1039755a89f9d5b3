"""The training run end to end: metadata, cross-validation, the final model, the report, determinism."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import xgboost as xgb
from sklearn.metrics import roc_auc_score

from churnguard.errors import UserError
from churnguard.feature_spec import FeatureSpec
from churnguard.model_folder import model_id_of
from tests.fixtures.model import FIXTURE_ROWS, FIXTURE_SEED
from training.artifacts import model_json_bytes
from training.features import feature_matrix, labels
from training.pipeline import CV_FOLDS, train
from training.search import final_round_count, fit_final
from training.split import split_customers
from training.synthetic import generate_customers

REQUIRED_KEYS = {
    "schema_version",
    "features",
    "feature_spec",
    "cutoff",
    "metrics",
    "cost",
    "data",
    "versions",
    "seed",
}


def test_metadata_holds_every_field_the_other_parts_read(trained_model_dir: Path) -> None:
    metadata = json.loads((trained_model_dir / "metadata.json").read_text())
    assert set(metadata) >= REQUIRED_KEYS
    for model in ("full", "reduced"):
        assert {"test_auc", "accuracy", "precision", "recall", "features"} <= set(metadata["metrics"][model])
        assert 0.5 < metadata["metrics"][model]["test_auc"] <= 1.0
    assert metadata["metrics"]["reduced"]["features"] < metadata["metrics"]["full"]["features"]
    cost = metadata["cost"]
    assert cost["test_rows"] == metadata["data"]["test_rows"] == 200
    assert 0 < cost["at_cutoff"] < cost["do_nothing"]
    assert cost["per_customer"] == round(cost["at_cutoff"] / cost["test_rows"], 4)
    assert 0 < metadata["cutoff"] < 1
    assert metadata["data"]["fingerprint"].startswith("sha256:") and metadata["data"]["rows"] == 2_000
    assert metadata["seed"] == 1729


def test_the_cut_off_is_chosen_on_every_non_test_row_out_of_fold(trained_model_dir: Path) -> None:
    metadata = json.loads((trained_model_dir / "metadata.json").read_text())
    choice = metadata["cost"]["cutoff_choice"]
    assert metadata["cost"]["cutoff_chosen_on"] == "out_of_fold"
    assert choice["half_width"] == 3
    assert choice["validation_rows"] == metadata["data"]["validation_rows"] == FIXTURE_ROWS - 200
    assert choice["validation_cost"] > 0
    assert metadata["cross_validation"][metadata["metrics"]["chosen"]]["cutoff"] == metadata["cutoff"]


def test_metadata_shows_the_spread_over_every_fold(trained_model_dir: Path) -> None:
    metadata = json.loads((trained_model_dir / "metadata.json").read_text())
    cross_validation = metadata["cross_validation"]
    assert cross_validation["folds"] == CV_FOLDS == 5
    assert cross_validation["rows"] == metadata["data"]["train_rows"] == FIXTURE_ROWS - 200
    assert cross_validation["chosen"] == metadata["metrics"]["chosen"]
    for model in ("full", "reduced"):
        figures = cross_validation[model]
        assert sum(figures["rows_per_fold"]) == cross_validation["rows"]
        for name in ("auc", "cost_per_customer"):
            per_fold = figures[name]["per_fold"]
            assert len(per_fold) == CV_FOLDS
            assert figures[name]["mean"] == pytest.approx(np.mean(per_fold), abs=1e-6)
            assert figures[name]["std"] == pytest.approx(np.std(per_fold, ddof=1), abs=1e-6)
        assert all(0.5 < auc <= 1 for auc in figures["auc"]["per_fold"])
        assert figures["auc"]["std"] > 0 and figures["cost_per_customer"]["std"] > 0
        assert 1 <= figures["cv_rounds"] <= figures["final_rounds"]
        assert figures["final_rounds"] == metadata["metrics"][model]["rounds"]
        # The model's cross-validated AUC is the mean over its folds.
        assert metadata["metrics"][model]["validation_auc"] == pytest.approx(figures["auc"]["mean"], abs=1e-6)


def test_the_shipped_model_is_refit_on_every_labelled_row_and_the_test_figures_are_the_held_out_fit(
    trained_model_dir: Path,
) -> None:
    metadata = json.loads((trained_model_dir / "metadata.json").read_text())
    customers = generate_customers(FIXTURE_ROWS, seed=FIXTURE_SEED)
    churn = labels(customers)
    parts = split_customers(customers, "project", FIXTURE_SEED)
    non_test = np.sort(np.concatenate([parts.train, parts.validation]))
    spec = FeatureSpec.from_json(metadata["feature_spec"])
    chosen = metadata["metrics"]["chosen"]
    hyperparameters = metadata["metrics"][chosen]["hyperparameters"]

    def model_trained_on(rows: np.ndarray, rounds: int) -> xgb.Booster:
        train_matrix = xgb.DMatrix(
            feature_matrix(customers.iloc[rows], spec), label=churn[rows], feature_names=spec.names
        )
        return fit_final(hyperparameters, rounds, train_matrix, 1729)

    deployed = metadata["deployed"]
    assert deployed["rows"] == metadata["data"]["rows"] == FIXTURE_ROWS
    assert deployed["test_figures_from"] == metadata["metrics"]["test_figures_from"] == "held_out_fit"
    # The rounds rule of the held-out fit, for 2,000 rows after folds of 4/5 of 1,800.
    cv_rounds = metadata["cross_validation"][chosen]["cv_rounds"]
    expected_rounds = final_round_count(
        cv_rounds, FIXTURE_ROWS / (1800 * 4 / 5), int(hyperparameters["num_round"])
    )
    assert deployed["rounds"] == metadata["hyperparameters"]["rounds"] == expected_rounds
    shipped = (trained_model_dir / "model.json").read_bytes()
    assert model_json_bytes(model_trained_on(np.arange(FIXTURE_ROWS), expected_rounds)) == shipped
    assert model_id_of(shipped) == metadata["model_id"]
    # The test AUC is the held-out fit's: non-test rows only, its own rounds, never the shipped model's.
    held_out_fit = model_trained_on(non_test, metadata["metrics"][chosen]["rounds"])
    assert model_json_bytes(held_out_fit) != shipped
    test_matrix = xgb.DMatrix(feature_matrix(customers.iloc[parts.test], spec), feature_names=spec.names)
    assert metadata["metrics"][chosen]["test_auc"] == round(
        roc_auc_score(churn[parts.test], held_out_fit.predict(test_matrix)), 6
    )


def test_the_report_says_which_model_the_figures_describe(trained_model_dir: Path) -> None:
    report = (trained_model_dir / "report.html").read_text()
    assert f"refit on all {FIXTURE_ROWS:,} labelled rows" in report
    assert "the same model fit on the 1,800 non-test rows only (the held-out fit)" in report
    assert "Feature importance (the model shipped)" in report


def test_the_kept_trial_is_the_smoothest_within_one_standard_error(trained_model_dir: Path) -> None:
    search = json.loads((trained_model_dir / "metadata.json").read_text())["search"]
    for model in ("full", "reduced"):
        noise = search["within_noise"][model]
        assert 1 <= noise["kept_trial"] <= search["trials"] and noise["trials_within"] >= 1
        # The kept trial's gap to the best-ranked is within the standard error of their paired difference.
        assert 0 <= noise["gap"] <= noise["tolerance"]


def test_each_search_kept_its_cheapest_trial_on_validation_rows(trained_model_dir: Path) -> None:
    metadata = json.loads((trained_model_dir / "metadata.json").read_text())
    assert metadata["search"]["trial_selection"] == "cost"
    for model in ("full", "reduced"):
        assert metadata["metrics"][model]["validation_cost"] > 0
    chosen = metadata["metrics"][metadata["metrics"]["chosen"]]
    # The chosen model's validation cost is the cost at the cut-off the run wrote.
    assert chosen["validation_cost"] == metadata["cost"]["cutoff_choice"]["validation_cost"]


def test_an_unknown_trial_selection_is_a_user_error(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="trial selection 'gain'"):
        train(generate_customers(300, seed=1), tmp_path, trials=1, trial_selection="gain")


def test_the_reduced_model_is_kept_only_within_the_auc_margin(trained_model_dir: Path) -> None:
    metrics = json.loads((trained_model_dir / "metadata.json").read_text())["metrics"]
    within = metrics["reduced"]["validation_auc"] >= metrics["full"]["validation_auc"] - metrics["auc_margin"]
    assert metrics["chosen"] == ("reduced" if within else "full")


def test_the_report_shows_plots_and_error_rates_by_segment(trained_model_dir: Path) -> None:
    report = (trained_model_dir / "report.html").read_text()
    for image in ("importance.png", "roc.png", "cost.png", "scores.png"):
        assert f'src="{image}"' in report
        assert (trained_model_dir / image).read_bytes().startswith(b"\x89PNG")
    for segment in ("Northeast", "Midwest", "South", "West", "international plan", "voicemail plan"):
        assert segment in report
    assert "358-1921" not in report  # no phone numbers in reports
    assert "Cross-validation" in report
    for model in ("full", "reduced"):
        per_fold = json.loads((trained_model_dir / "metadata.json").read_text())["cross_validation"][model]
        assert ", ".join(f"{value:.3f}" for value in per_fold["auc"]["per_fold"]) in report


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    customers = generate_customers(1_000, seed=5)
    folders = [tmp_path_factory.mktemp(name) for name in ("first", "again", "other-seed")]
    train(customers, folders[0], trials=3, seed=8)
    train(customers, folders[1], trials=3, seed=8)
    train(customers, folders[2], trials=3, seed=9)
    return folders[0], folders[1], folders[2]


def test_same_seed_gives_the_same_model_and_metadata(two_runs: tuple[Path, Path, Path]) -> None:
    first, again, other = two_runs
    for name in ("model.tar.gz", "model.json", "metadata.json"):
        assert (first / name).read_bytes() == (again / name).read_bytes()
    assert (first / "model.json").read_bytes() != (other / "model.json").read_bytes()


def test_too_few_churners_is_a_user_error(tmp_path: Path) -> None:
    customers = generate_customers(60, seed=1)
    with pytest.raises(UserError, match="churners"):
        train(customers, tmp_path, trials=1)


def test_bad_options_are_user_errors(tmp_path: Path) -> None:
    customers = generate_customers(500, seed=1)
    with pytest.raises(UserError, match="trials"):
        train(customers, tmp_path, trials=0)
    with pytest.raises(UserError, match="split"):
        train(customers, tmp_path, split="random")  # type: ignore[arg-type]
