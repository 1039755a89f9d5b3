"""report.html: a first section for a manager (training.manager_section: costs, savings, drivers,
segments in plain words), then the plots and tables a reviewer needs to judge the model.

Computing lives in the other modules; this one only draws (matplotlib, Agg backend, no display) and
writes HTML with every value escaped.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from churnguard.driver_groups import PLAIN_NAMES
from churnguard.drivers import DriverExplainer
from churnguard.engine.rules import ModelCutoff, load_rules
from churnguard.model_folder import ModelFolder
from training import manager_section
from training.expectation import expectation_lines

REPORT_HTML = "report.html"
# US census regions: a coarse grouping so per-segment error rates rest on enough customers.
STATE_REGIONS: dict[str, str] = {
    **dict.fromkeys(["CT", "ME", "MA", "NH", "RI", "VT", "NJ", "NY", "PA"], "Northeast"),
    **dict.fromkeys(["IL", "IN", "MI", "OH", "WI", "IA", "KS", "MN", "MO", "NE", "ND", "SD"], "Midwest"),
    **dict.fromkeys(
        [
            "DE",
            "DC",
            "FL",
            "GA",
            "MD",
            "NC",
            "SC",
            "VA",
            "WV",
            "AL",
            "KY",
            "MS",
            "TN",
            "AR",
            "LA",
            "OK",
            "TX",
        ],
        "South",
    ),
    **dict.fromkeys(["AZ", "CO", "ID", "MT", "NV", "NM", "UT", "WY", "AK", "CA", "HI", "OR", "WA"], "West"),
}


@dataclass(frozen=True)
class ReportInputs:
    """Everything the report shows; built by the pipeline."""

    summary: dict[str, Any]
    # One row per model (full, reduced): AUC and cost per customer across the cross-validation folds.
    cross_validation: list[dict[str, Any]]
    importance: list[dict[str, Any]]
    tree_depths: dict[int, int]
    first_tree_splits: list[dict[str, Any]]
    roc: dict[str, tuple[np.ndarray, np.ndarray]]  # model name -> (false positive rate, true positive rate)
    cutoff_grid: np.ndarray
    cost_curve: np.ndarray
    cutoff: float
    # None when the rows stayed in Aurora: then `test_churn` gives the labels that came back.
    test_customers: pd.DataFrame | None
    test_scores: np.ndarray
    # Where the customers came from (a file, or synthetic customers) and when the run trained.
    data_source: str = "a customer table (source not recorded)"
    trained_at: str = "date not recorded"
    test_churn: np.ndarray | None = None

    @property
    def churn(self) -> np.ndarray:
        """The test customers' labels, as booleans, in the order of `test_scores`."""
        if self.test_customers is not None:
            return self.test_customers["churn"].astype(bool).to_numpy()
        if self.test_churn is None:
            raise ValueError("the report needs the test customers or their labels")
        return np.asarray(self.test_churn).astype(bool)


# What the report says in place of what needs each test customer's values, for a run whose rows
# stayed in Aurora (churnguard train --sagemaker --from-table).
ROWS_IN_AURORA_NOTE = (
    "The customers' rows stayed in Aurora (trained with --from-table): only each test customer's "
    "label and score came back, so what needs each customer's values (the drivers over the test "
    "customers, the error rates by segment) is not shown. The feature importance below says what the "
    "model splits on; `churnguard recommend` shows one customer's drivers."
)


def segment_error_rates(customers: pd.DataFrame, scores: np.ndarray, cutoff: float) -> pd.DataFrame:
    """Per segment (region, plans, area code): rows, churn rate, and the error rates at the cut-off."""
    churn = customers["churn"].astype(bool).to_numpy()
    offered = scores >= cutoff
    segments = {
        "region": customers["state"].map(STATE_REGIONS).fillna("Other").to_numpy(),
        "int_plan": customers["int_plan"].astype(str).to_numpy(),
        "vmail_plan": customers["vmail_plan"].astype(str).to_numpy(),
        "area_code": customers["area_code"].astype(str).to_numpy(),
    }
    rows = []
    for segment, values in segments.items():
        for value in sorted(set(values)):
            mask = values == value
            churners, stayers = mask & churn, mask & ~churn
            rows.append(
                {
                    "segment": segment,
                    "value": value,
                    "rows": int(mask.sum()),
                    "churners": int(churners.sum()),
                    "churn_rate": _share(churners.sum(), mask.sum()),
                    "error_rate": _share((offered != churn)[mask].sum(), mask.sum()),
                    "false_positive_rate": _share((offered & stayers).sum(), stayers.sum()),
                    "false_negative_rate": _share((~offered & churners).sum(), churners.sum()),
                }
            )
    return pd.DataFrame(rows)


def _share(part: int, whole: int) -> float | None:
    return None if whole == 0 else round(float(part) / float(whole), 4)


def write_report(inputs: ReportInputs, out_dir: Path) -> Path:
    """Write the four plots and report.html into `out_dir`; returns the HTML's path."""
    images = {
        "importance.png": _plot_importance(inputs.importance),
        "roc.png": _plot_roc(inputs.roc),
        "cost.png": _plot_cost(inputs.cutoff_grid, inputs.cost_curve, inputs.cutoff),
        "scores.png": _plot_scores(inputs.churn, inputs.test_scores, inputs.cutoff),
    }
    for name, figure in images.items():
        figure.savefig(out_dir / name, dpi=80, metadata={"Software": None})
        plt.close(figure)
    segments = (
        pd.DataFrame()
        if inputs.test_customers is None
        else segment_error_rates(inputs.test_customers, inputs.test_scores, inputs.cutoff)
    )
    path = out_dir / REPORT_HTML
    # The folder as every reader sees it: the manager section's cost assumptions and data block come
    # from the metadata.json just written, whichever training wrote it.
    folder = ModelFolder.read(out_dir)
    manager = _manager_html(inputs, segments, folder, DriverExplainer.from_folder(folder))
    path.write_text(_html(inputs, segments, list(images), manager), encoding="utf-8")
    return path


def _manager_html(
    inputs: ReportInputs, segments: pd.DataFrame, folder: ModelFolder, explainer: DriverExplainer
) -> str:
    """The manager's section from the test customers, the cut-off and metadata.json's cost block."""
    if folder.offer_usd is None or folder.lost_customer_usd is None:
        raise ValueError(f"{folder.metadata_path} records no cost assumptions for the manager's section")
    churn = inputs.churn
    figures = manager_section.cost_figures(
        churn,
        inputs.test_scores,
        inputs.cutoff,
        offer_usd=folder.offer_usd,
        lost_customer_usd=folder.lost_customer_usd,
    )
    rules_note, rules_offer_usd = _rules_note(inputs.cutoff, figures.offer_usd)
    offered = inputs.test_scores >= inputs.cutoff
    overall = {
        "churn rate": _share(churn.sum(), len(churn)),
        "churners caught": _share((offered & churn).sum(), churn.sum()),
    }
    return manager_section.manager_html(
        figures,
        cutoff=inputs.cutoff,
        trained_at=inputs.trained_at,
        data_source=inputs.data_source,
        data=folder.document.get("data") or {},
        drivers=[]
        if inputs.test_customers is None
        else manager_section.driver_summaries(explainer, inputs.test_customers),
        segments=[] if segments.empty else manager_section.flag_segments(segments, overall),
        rules_note_html=rules_note,
        rules_offer_usd=rules_offer_usd,
        expectation=expectation_lines(folder.document),
        rows_note=ROWS_IN_AURORA_NOTE if inputs.test_customers is None else None,
    )


def _rules_note(cutoff: float, offer_usd: float) -> tuple[str, tuple[float, float] | None]:
    """How the call-centre rules' offer costs compare with the training's, as HTML (never a silent
    difference), and the rules' cheapest and dearest paid offer where they differ from `offer_usd`."""
    rules = load_rules(model_cutoff=ModelCutoff(cutoff, REPORT_HTML))
    paying = sorted({offer.cost_usd for offer in rules.offers.values() if offer.cost_usd > 0})
    if paying and paying != [offer_usd]:
        note = (
            f"The call-centre rules shipped with churnguard ({html.escape(rules.source)}, version "
            f"{html.escape(rules.version)}) pay ${paying[0]:,.2f} to ${paying[-1]:,.2f} per offer, not "
            f"${offer_usd:,.2f}: the cut-off that minimises the real cost is lower when offers are cheaper. "
            "<code>churnguard offers report --model</code> compares the two once offers are made; retrain "
            "with <code>--offer-usd</code> at the offers' real cost."
        )
        return note, (paying[0], paying[-1])
    return (
        f"The call-centre rules shipped with churnguard price offers at ${offer_usd:,.2f}, as assumed here.",
        None,
    )


def _plot_importance(importance: list[dict[str, Any]]) -> plt.Figure:
    top = [row for row in importance if row["gain"] > 0][:20][::-1]
    figure, axes = plt.subplots(figsize=(7, max(2.5, 0.3 * len(top) + 1)))
    axes.barh([row["feature"] for row in top], [row["gain"] for row in top], color="#33658a")
    axes.set_xlabel("total gain")
    axes.set_title("Feature importance (chosen model)")
    figure.tight_layout()
    return figure


def _plot_roc(roc: dict[str, tuple[np.ndarray, np.ndarray]]) -> plt.Figure:
    figure, axes = plt.subplots(figsize=(5, 5))
    # Distinct line styles: when the reduced model equals the full one, both curves stay visible.
    for (name, (false_positive_rate, true_positive_rate)), style in zip(
        roc.items(), ("-", "--", ":"), strict=False
    ):
        axes.plot(false_positive_rate, true_positive_rate, linestyle=style, label=name)
    axes.plot([0, 1], [0, 1], linestyle=":", color="grey")
    axes.set_xlabel("false positive rate")
    axes.set_ylabel("true positive rate")
    axes.set_title("ROC on the test set")
    axes.legend(loc="lower right")
    figure.tight_layout()
    return figure


def _plot_cost(grid: np.ndarray, curve: np.ndarray, cutoff: float) -> plt.Figure:
    figure, axes = plt.subplots(figsize=(6, 4))
    axes.plot(grid, curve, color="#86bbd8")
    axes.axvline(cutoff, linestyle="--", color="#f26419", label=f"cut-off {cutoff:.2f}")
    axes.set_xlabel("cut-off (offer when probability >= cut-off)")
    axes.set_ylabel("cost on the test set (USD)")
    axes.set_title("Expected cost by cut-off")
    axes.legend()
    figure.tight_layout()
    return figure


def _plot_scores(churn: np.ndarray, scores: np.ndarray, cutoff: float) -> plt.Figure:
    figure, axes = plt.subplots(figsize=(6, 4))
    bins = np.linspace(0, 1, 26)
    axes.hist(scores[~churn], bins=bins, alpha=0.6, label="stayed", color="#33658a")
    axes.hist(scores[churn], bins=bins, alpha=0.6, label="churned", color="#f26419")
    axes.axvline(cutoff, linestyle="--", color="black")
    axes.set_xlabel("churn probability")
    axes.set_ylabel("test customers")
    axes.set_title("Score distribution")
    axes.legend()
    figure.tight_layout()
    return figure


def _table(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return "<p>(none)</p>"
    header = "".join(f"<th>{html.escape(str(key))}</th>" for key in rows[0])
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(_cell(value))}</td>" for value in row.values()) + "</tr>"
        for row in rows
    )
    return f"<table><tr>{header}</tr>{body}</table>"


def _cell(value: Any) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _segment_cell(key: str, value: Any) -> Any:
    if pd.isna(value):
        return None
    return PLAIN_NAMES.get(value, value) if key == "segment" else value


def _html(inputs: ReportInputs, segments: pd.DataFrame, images: list[str], manager: str) -> str:
    summary_rows = [{"item": key, "value": value} for key, value in inputs.summary.items()]
    depth_rows = [{"depth": depth, "trees": count} for depth, count in inputs.tree_depths.items()]
    # The same plain names as the manager's section ("international plan", "churn rate"), never a mix.
    segment_rows = [
        {key.replace("_", " "): _segment_cell(key, value) for key, value in row.items()}
        for row in segments.to_dict(orient="records")
    ]
    figures = "".join(f'<img src="{html.escape(name)}" alt="{html.escape(name)}">' for name in images)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>churnguard training report</title>
<style>body{{font-family:sans-serif;margin:2em}}table{{border-collapse:collapse;margin:1em 0}}
td,th{{border:1px solid #ccc;padding:3px 8px;text-align:left}}img{{max-width:48%;margin:4px}}</style>
</head><body>
<h1>churnguard training report</h1>
{manager}
<h2>Technical summary</h2>{_table(summary_rows)}
<h2>Cross-validation (non-test rows)</h2>
<p>Hyper-parameters, the reduced feature set and the cut-off were chosen on these folds; the spread
between folds shows how far the test figures of one split may move on other customers.</p>
{_table(inputs.cross_validation)}
<h2>Plots</h2>{figures}
<h2>Error rates by segment (test set, at the cut-off)</h2>
<p>{
        html.escape(ROWS_IN_AURORA_NOTE)
        if inputs.test_customers is None
        else "Large differences between groups of one segment mean the model treats those customers "
        "differently."
    }</p>
{_table(segment_rows)}
<h2>Feature importance (the model shipped)</h2>{
        _table([row for row in inputs.importance if row["splits"] > 0])
    }
<h2>Tree depths (the model shipped)</h2>{_table(depth_rows)}
<h2>First tree, top splits (the model shipped)</h2>{_table(inputs.first_tree_splits)}
</body></html>
"""
