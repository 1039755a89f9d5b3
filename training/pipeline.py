"""The training run end to end: features, split, search, reduced model, cut-off, artifacts, report.

`train()` is what `churnguard train`, the demo and the test fixture call. Everything it writes
depends only on the customer table and its arguments (no clock, no unseeded randomness), so the same
inputs give byte-identical models and metadata; only report.html shows the date it was trained on.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xgboost as xgb

from churnguard.constants import DEFAULT_AUC_MARGIN, DEFAULT_SEED
from churnguard.errors import UserError
from churnguard.feature_spec import FeatureSpec
from churnguard.model_folder import write_metadata
from training import artifacts, explain
from training.cutoff import (
    CUTOFF_GRID,
    CostModel,
    cost_curve,
    smoothed_optimal_cutoff,
)
from training.data import validate_customers
from training.evaluate import roc_points
from training.features import build_feature_spec, feature_matrix, labels, subset_spec
from training.metadata import build_metadata, cost_block, model_metrics
from training.progress import Progress, SilentProgress
from training.report import REPORT_HTML, ReportInputs, write_report
from training.search import (
    EARLY_STOPPING_ROUNDS,
    HYPERPARAMETER_RANGES,
    MOST_ROUNDS,
    PATIENCE_LEARNING,
    REFERENCE_HYPERPARAMETERS,
    STOPPING_METRIC,
    OutOfFoldCost,
    SearchResult,
    Trial,
    final_round_count,
    fit_final,
    make_folds,
    search,
)
from training.selection import (
    choose_from_out_of_fold,
    fold_spread,
    out_of_fold_cost,
    smoothest_within_noise,
    within_one_standard_error,
)
from training.split import SPLIT_RULES, SplitRule, split_customers, stratified_folds

DEFAULT_TRIALS = 20
# Folds of the cross-validation over the non-test rows: 5 keeps 80% of them in each fold's training
# part and gives about 600 held-out customers per fold on the public data set.
CV_FOLDS = 5
# Fewer churners than this in the test part or a fold make its AUC and cut-off meaningless.
MIN_CHURNERS_PER_PART = 5
# How the search picks its winning trial (training/search.py): "cost" = lowest validation cost at the
# model's smoothed cut-off, AUC breaking ties; "auc" = highest validation AUC (the reference's way).
TRIAL_SELECTIONS: tuple[str, ...] = ("cost", "auc")
DEFAULT_TRIAL_SELECTION = "cost"


@dataclass(frozen=True)
class ModelRun:
    """One searched model (full or reduced): its cross-validation and the final booster's test scores."""

    spec: FeatureSpec
    search: SearchResult
    # What is shipped for this feature set: the chosen trial refit on every non-test row.
    booster: xgb.Booster
    test_scores: np.ndarray
    # One score per non-test row from the fold model that did not train on it.
    out_of_fold: np.ndarray


@dataclass(frozen=True)
class TrainingResult:
    out_dir: Path
    metadata: dict[str, Any]
    booster: xgb.Booster
    feature_spec: FeatureSpec

    @property
    def report_path(self) -> Path:
        return self.out_dir / REPORT_HTML


@dataclass(frozen=True)
class CrossValidationRows:
    """The non-test rows (positions in the customer table) and each fold's held-out part of them."""

    rows: np.ndarray
    folds: tuple[np.ndarray, ...]


def train(
    customers: pd.DataFrame,
    out_dir: Path,
    *,
    trials: int = DEFAULT_TRIALS,
    seed: int = DEFAULT_SEED,
    split: SplitRule = "project",
    offer_usd: float = 50.0,
    lost_customer_usd: float = 500.0,
    auc_margin: float = DEFAULT_AUC_MARGIN,
    progress: Progress | None = None,
    trial_selection: str = DEFAULT_TRIAL_SELECTION,
    data_source: str | None = None,
) -> TrainingResult:
    """Train, explain, choose and package a churn model from a validated customer table.

    The test part of the split is held back; hyper-parameters, the reduced feature set and the cut-off
    are chosen by CV_FOLDS-fold cross-validation over every other row, and the model shipped is trained
    on all of those rows. `data_source` says where the customers came from, for the report.
    """
    progress = progress or SilentProgress()
    if trial_selection not in TRIAL_SELECTIONS:
        raise UserError(
            f"unknown trial selection {trial_selection!r}: use one of {', '.join(TRIAL_SELECTIONS)}"
        )
    if split not in SPLIT_RULES:
        raise UserError(f"unknown split {split!r}: use one of {', '.join(SPLIT_RULES)}")
    if trials < 1:
        raise UserError(f"--trials must be at least 1 (got {trials})")
    if auc_margin < 0:
        raise UserError(f"the AUC margin must not be negative (got {auc_margin})")
    costs = CostModel(offer_usd=offer_usd, lost_customer_usd=lost_customer_usd)
    customers = validate_customers(customers)
    churn = labels(customers)
    parts = split_customers(customers, split, seed)
    cv_rows = np.sort(np.concatenate([parts.train, parts.validation]))
    cv = CrossValidationRows(cv_rows, stratified_folds(churn[cv_rows], CV_FOLDS, seed))
    _check_parts(churn, parts.test, cv)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)

    cv_churn = churn[cv.rows]

    rank_by_cost = out_of_fold_cost(cv_churn, cv.folds, costs) if trial_selection == "cost" else None
    full_spec = build_feature_spec(customers.iloc[cv.rows])
    full_matrix = feature_matrix(customers, full_spec)
    searcher = ModelSearcher(
        full_matrix,
        full_spec,
        churn,
        cv,
        parts.test,
        trials,
        seed,
        progress,
        rank_by_cost,
    )
    full = searcher.run("full model", full_spec)
    # The reduced set is what the shipped full model splits on. Inside each fold the reduced model gets
    # what that fold's full model split on: the feature choice a fold is judged by never saw the rows
    # that judge it.
    reduced_spec = subset_spec(full_spec, explain.used_features(full.booster) or set(full_spec.names))
    reduced = searcher.run(
        "reduced model",
        reduced_spec,
        columns_per_fold=[
            _columns(full_spec, explain.used_features(fold_booster) or set(full_spec.names))
            for fold_booster in full.search.best.fold_boosters
        ],
    )
    runs = {"full": full, "reduced": reduced}
    choice = choose_from_out_of_fold(
        cv_churn,
        cv.folds,
        {name: run.out_of_fold for name, run in runs.items()},
        auc_margin=auc_margin,
        costs=costs,
    )
    chosen = runs[choice.model]
    # Every figure is computed; the model shipped is the same choice refit on every labelled row.
    progress.begin("refitting the chosen model on every labelled row")
    deployed = refit_on_every_row(chosen, full_matrix, full_spec, churn, cv, seed)
    progress.end(f"{deployed.rounds} rounds on {deployed.rows:,} customers")

    progress.begin("writing the artifacts")
    test_churn = churn[parts.test]
    # Lifecycle (docs/lifecycle.md): the reference distributions drift compares with are the features
    # and the shipped model's score over the rows it trained on (every labelled row). (Out-of-fold scores
    # come from weaker fold models: a fresh sample of the same population was 0.16 away.)
    trained_rows = full_matrix[:, [full_spec.names.index(name) for name in chosen.spec.names]]
    metadata = build_metadata(
        booster=deployed.booster,
        spec=chosen.spec,
        cutoff=choice.cutoff,
        metrics={
            **{name: _model_summary(run, test_churn) for name, run in runs.items()},
            "chosen": choice.model,
            "auc_margin": auc_margin,
            "chosen_on": "mean cross-validated AUC",
            # The test figures describe the held-out fit, not the model shipped (see `deployed`).
            "test_figures_from": "held_out_fit",
        },
        cost=cost_block(
            test_churn,
            chosen.test_scores,
            choice.cutoff,
            costs,
            chosen_on="out_of_fold",
            validation_cost=choice.validation_cost,
            validation_rows=len(cv.rows),
        ),
        cross_validation={
            "folds": len(cv.folds),
            "rows": len(cv.rows),
            "stratified": True,
            "seed": seed,
            "rounds_rule": (
                f"best round of the folds' mean {STOPPING_METRIC} x folds / (folds - 1), <= num_round"
            ),
            "spread": "mean and sample standard deviation over the folds' held-out rows",
            **{name: _cross_validation_summary(run, churn, cv, costs) for name, run in runs.items()},
            "chosen": choice.model,
        },
        data={
            "fingerprint": artifacts.data_fingerprint(customers),
            "rows": len(customers),
            "churn_rate": round(float(churn.mean()), 6),
            "split": split,
            # The held-out fit trains on every non-test row, each of them scored out of fold once; the
            # model shipped on every labelled row (`deployed`).
            "train_rows": len(cv.rows),
            "validation_rows": len(cv.rows),
            "test_rows": len(parts.test),
        },
        seed=seed,
        hyperparameters=chosen.search.best.trial.hyperparameters,
        search={
            "trials": trials,
            "first_trial": dict(REFERENCE_HYPERPARAMETERS),
            "ranges": {name: [low, high] for name, (low, high, _) in HYPERPARAMETER_RANGES.items()},
            "objective_metric": "mean cross-validated AUC",
            "early_stopping": (
                f"the folds' mean held-out {STOPPING_METRIC} not lower for max({EARLY_STOPPING_ROUNDS}, "
                f"ceil({PATIENCE_LEARNING} / eta)) rounds, at most {MOST_ROUNDS} rounds"
            ),
            "trial_selection": trial_selection,
            "trial_selection_rule": (
                "lowest out-of-fold cost at the smoothed cut-off, then highest mean cross-validated AUC"
                if trial_selection == "cost"
                else "highest mean cross-validated AUC"
            ),
            "kept_rule": (
                "among the trials whose gap to the best-ranked is within one standard error of the folds' "
                "paired differences, the smoothest: lowest eta, then shallower trees, then larger "
                "min_child_weight, gamma, lambda, alpha"
            ),
            "within_noise": {name: _within_noise(run) for name, run in runs.items()},
        },
        reference=artifacts.reference_distributions(
            chosen.spec.names,
            trained_rows,
            deployed.booster.predict(xgb.DMatrix(trained_rows, feature_names=chosen.spec.names)),
        ),
        deployed=deployed.describe(len(cv.rows)),
    )
    artifacts.write_model_files(deployed.booster, out_dir)
    write_metadata(out_dir, metadata)
    write_report(
        ReportInputs(
            summary=report_summary(metadata, cutoff_chosen_on="out-of-fold scores"),
            cross_validation=_report_cross_validation(metadata["cross_validation"]),
            importance=explain.feature_importance(deployed.booster, chosen.spec.names),
            tree_depths=explain.tree_depths(deployed.booster),
            first_tree_splits=explain.first_tree_splits(deployed.booster),
            roc={name: roc_points(test_churn, run.test_scores) for name, run in runs.items()},
            cutoff_grid=CUTOFF_GRID,
            cost_curve=cost_curve(test_churn, chosen.test_scores, costs),
            cutoff=choice.cutoff,
            test_customers=customers.iloc[parts.test],
            test_scores=chosen.test_scores,
            data_source=data_source or "a customer table given to training.pipeline.train",
            trained_at=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        ),
        out_dir,
    )
    progress.end(f"cut-off {choice.cutoff:.2f}, {choice.model} model")
    return TrainingResult(out_dir, metadata, deployed.booster, chosen.spec)


@dataclass(frozen=True)
class Deployed:
    """The model shipped: the chosen hyper-parameters and features refit on every labelled row."""

    booster: xgb.Booster
    rows: int
    rounds: int

    def describe(self, held_out_fit_rows: int) -> dict[str, Any]:
        """metadata.json's `deployed` block: the model shipped, and the one the test figures describe."""
        return {
            "trained_on": "every labelled row, test part included, after every figure was computed",
            "rows": self.rows,
            "rounds": self.rounds,
            "rounds_rule": "cv_rounds x rows / rows each fold trained on, <= num_round",
            "test_figures_from": "held_out_fit",
            "held_out_fit": {
                "trained_on": "the non-test rows only (data.train_rows), same hyper-parameters and features",
                "rows": held_out_fit_rows,
                "describes": "metrics.*.test_auc, accuracy, precision, recall, cost.* and the report's "
                "test-part plots and segment rates",
            },
        }


def refit_on_every_row(
    run: ModelRun,
    full_matrix: np.ndarray,
    full_spec: FeatureSpec,
    churn: np.ndarray,
    cv: CrossValidationRows,
    seed: int,
) -> Deployed:
    """The chosen model refit on every labelled row, rounds scaled as for the held-out fit.

    The held-out fit already scored the test part; what is shipped should use every customer whose
    outcome is known (on customers no run has seen, the larger table gains about 0.015 AUC: issue 28).
    The rounds follow the same rule as the held-out fit's: the folds' best round times the growth in
    rows over what each fold trained on.
    """
    best = run.search.best.trial
    fold_rows = len(cv.rows) * (CV_FOLDS - 1) / CV_FOLDS
    rounds = final_round_count(best.cv_rounds, len(churn) / fold_rows, int(best.hyperparameters["num_round"]))
    columns = _columns(full_spec, set(run.spec.names))
    every_row = xgb.DMatrix(full_matrix[:, columns], label=churn, feature_names=run.spec.names)
    return Deployed(fit_final(best.hyperparameters, rounds, every_row, seed), len(churn), rounds)


def _check_parts(churn: np.ndarray, test: np.ndarray, cv: CrossValidationRows) -> None:
    named = [("test part", test)] + [
        (f"cross-validation fold {number}", cv.rows[rows]) for number, rows in enumerate(cv.folds, start=1)
    ]
    for name, rows in named:
        churners = int(churn[rows].sum())
        if churners < MIN_CHURNERS_PER_PART or churners == len(rows):
            raise UserError(
                f"the {name} has {churners} churners among {len(rows)} customers: need at least "
                f"{MIN_CHURNERS_PER_PART} churners and some non-churners in the test part and in each of "
                f"the {CV_FOLDS} cross-validation folds (use more data)"
            )


def _columns(spec: FeatureSpec, keep: set[str]) -> np.ndarray:
    return np.array([position for position, name in enumerate(spec.names) if name in keep])


@dataclass(frozen=True)
class ModelSearcher:
    """Runs the cross-validated search for one feature set and trains its final model."""

    full_matrix: np.ndarray
    full_spec: FeatureSpec
    churn: np.ndarray
    cv: CrossValidationRows
    test: np.ndarray
    trials: int
    seed: int
    progress: Progress
    out_of_fold_cost: Callable[[np.ndarray], OutOfFoldCost] | None

    def run(
        self, label: str, spec: FeatureSpec, columns_per_fold: list[np.ndarray] | None = None
    ) -> ModelRun:
        columns = _columns(self.full_spec, set(spec.names))
        cv_matrix = self.full_matrix[self.cv.rows]
        cv_churn = self.churn[self.cv.rows]
        folds = make_folds(
            cv_matrix,
            cv_churn,
            self.full_spec.names,
            self.cv.folds,
            columns_per_fold if columns_per_fold is not None else [columns] * len(self.cv.folds),
        )

        def report_trial(number: int, _trial: Trial, best: Trial) -> None:
            self.progress.advance(number, _describe(best))

        self.progress.begin(
            f"searching the {label} ({len(spec.names)} features, {CV_FOLDS}-fold cross-validation)",
            self.trials,
        )
        result = search(
            folds,
            len(self.cv.rows),
            trials=self.trials,
            seed=self.seed,
            on_trial=report_trial,
            validation_cost=self.out_of_fold_cost,
            choose=smoothest_within_noise,
        )
        best = result.best.trial
        self.progress.end(_describe(best))
        train_all = xgb.DMatrix(cv_matrix[:, columns], label=cv_churn, feature_names=spec.names)
        booster = fit_final(best.hyperparameters, best.best_round_count, train_all, self.seed)
        test_matrix = xgb.DMatrix(self.full_matrix[np.ix_(self.test, columns)], feature_names=spec.names)
        return ModelRun(
            spec=spec,
            search=result,
            booster=booster,
            test_scores=booster.predict(test_matrix),
            out_of_fold=result.best.out_of_fold,
        )


def _describe(best: Trial) -> str:
    auc = f"best cross-validated AUC {best.validation_auc:.4f}"
    return auc if best.validation_cost is None else f"{auc}, out-of-fold cost ${best.validation_cost:,.0f}"


def _model_summary(run: ModelRun, test_churn: np.ndarray) -> dict[str, Any]:
    best = run.search.best.trial
    return model_metrics(
        test_churn,
        run.test_scores,
        validation_auc=round(best.validation_auc, 6),
        validation_cost=best.validation_cost,
        features=len(run.spec.names),
        hyperparameters=best.hyperparameters,
        rounds=best.best_round_count,
    )


def _within_noise(run: ModelRun) -> dict[str, Any]:
    """How the kept trial was chosen: the best-ranked trial, the kept one's gap to it and that gap's
    standard error (its tolerance), and how many trials were within theirs."""
    noise = within_one_standard_error(run.search.trials)
    return {
        "best_ranked_trial": noise.best + 1,
        "best_ranked": run.search.trials[noise.best].hyperparameters,
        "gap": round(noise.gap, 6),
        "tolerance": round(noise.tolerance, 6),
        "trials_within": len(noise.within),
        "kept_trial": noise.kept + 1,
    }


def _cross_validation_summary(
    run: ModelRun, churn: np.ndarray, cv: CrossValidationRows, costs: CostModel
) -> dict[str, Any]:
    """The fold-wise spread of one model's AUC and cost, each model at its own out-of-fold cut-off."""
    cv_churn = churn[cv.rows]
    cutoff, _ = smoothed_optimal_cutoff(cv_churn, run.out_of_fold, costs)
    best = run.search.best.trial
    return {
        **fold_spread(cv_churn, run.out_of_fold, cv.folds, cutoff, costs),
        "cv_rounds": best.cv_rounds,
        "final_rounds": best.best_round_count,
    }


def report_summary(metadata: dict[str, Any], *, cutoff_chosen_on: str) -> dict[str, Any]:
    """The report's summary table from a model folder's metadata (local and SageMaker training alike)."""
    metrics, cost = metadata["metrics"], metadata["cost"]
    return {
        "chosen model": f"{metrics['chosen']} ({len(metadata['features'])} features)",
        "test AUC full": metrics["full"]["test_auc"],
        "test AUC reduced": metrics["reduced"]["test_auc"],
        f"cut-off (chosen on {cutoff_chosen_on})": metadata["cutoff"],
        "cost at cut-off (test)": f"${cost['at_cutoff']:,.0f} (${cost['per_customer']:.2f} per customer)",
        "cost of doing nothing (test)": f"${cost['do_nothing']:,.0f}",
        "test rows": cost["test_rows"],
        **_which_model(metadata),
        "split": metadata["data"]["split"],
        "seed": metadata["seed"],
        "data fingerprint": metadata["data"]["fingerprint"],
    }


def _which_model(metadata: dict[str, Any]) -> dict[str, Any]:
    """The summary's rows saying which model the figures describe (a folder without `deployed`, as
    SageMaker writes, ships the model the test figures describe)."""
    deployed = metadata.get("deployed")
    if deployed is None:
        return {"rows the model trained on": metadata["data"]["train_rows"]}
    return {
        "model shipped": f"refit on all {deployed['rows']:,} labelled rows ({deployed['rounds']} rounds), "
        "after the figures were computed",
        "test figures above describe": f"the same model fit on the {metadata['data']['train_rows']:,} "
        "non-test rows only (the held-out fit)",
        "rows the model trained on": deployed["rows"],
    }


def _report_cross_validation(cross_validation: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per model: the spread over the folds, so a reader sees how much to trust the figures."""
    rows = []
    for name in ("full", "reduced"):
        figures = cross_validation[name]
        auc, cost = figures["auc"], figures["cost_per_customer"]
        rows.append(
            {
                "model": name + (" (chosen)" if cross_validation["chosen"] == name else ""),
                "folds": cross_validation["folds"],
                "AUC mean": auc["mean"],
                "AUC std": auc["std"],
                "AUC per fold": ", ".join(f"{value:.3f}" for value in auc["per_fold"]),
                "cut-off": figures["cutoff"],
                "cost per customer mean": f"${cost['mean']:.2f}",
                "cost per customer std": f"${cost['std']:.2f}",
                "cost per customer per fold": ", ".join(f"${value:.2f}" for value in cost["per_fold"]),
                "rounds (folds)": figures["cv_rounds"],
                "final rounds": figures["final_rounds"],
            }
        )
    return rows
