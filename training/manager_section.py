"""The first section of report.html, for a manager: what the model costs and saves, and why it decides.

Every figure is computed on the test customers, the part of the data held back from fitting and
choosing the model, at the cut-off the run chose; the same arithmetic as training.cutoff:
each offer costs `offer_usd`, each churner without an offer costs `lost_customer_usd`, and (the
assumption behind the cut-off) a churner who gets an offer stays. The drivers are the model's own
per-customer attributions (churnguard.drivers, the ones the call-centre answer shows), averaged over
the test customers, with correlated usage features read together (churnguard.driver_groups).
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from churnguard.driver_groups import CALLS_COLUMNS, MINUTES_COLUMNS, PLAIN_NAMES
from churnguard.drivers import DriverExplainer
from churnguard.engine.report import wilson_interval

# A group's rate is flagged when it differs from the whole test set's by at least this many
# percentage points and the whole set's rate lies outside the group's 95% Wilson interval (so a
# small group's difference is flagged only when it is more than the noise of a few customers).
LARGE_DIFFERENCE_POINTS = 15.0
# A driver's direction is stated only when its contribution follows the customer's value this
# consistently (Spearman rank correlation); below it, the effect is called mixed.
MIN_DIRECTION_CORRELATION = 0.2
MANAGER_DRIVERS = 6
YES_NO_COLUMNS = ("int_plan", "vmail_plan")
# "The more <label>" where that does not read as English.
MORE_WORDS: Mapping[str, str] = {PLAIN_NAMES["acc_length"]: "the older the account"}


@dataclass(frozen=True)
class CostFigures:
    """At the cut-off, on the test customers: who gets an offer, which churners are caught, the cost."""

    customers: int
    churners: int
    offered: int
    caught: int
    missed: int
    offer_usd: float
    lost_customer_usd: float
    cost_at_cutoff: float
    cost_do_nothing: float

    @property
    def saving(self) -> float:
        return self.cost_do_nothing - self.cost_at_cutoff

    @property
    def saving_percent(self) -> float | None:
        return None if self.cost_do_nothing == 0 else 100.0 * self.saving / self.cost_do_nothing

    def saving_at(self, offer_usd: float) -> float:
        """The saving with the same customers offered, had each offer cost `offer_usd` instead."""
        return self.cost_do_nothing - (self.offered * offer_usd + self.missed * self.lost_customer_usd)


def cost_figures(
    churn: np.ndarray, scores: np.ndarray, cutoff: float, *, offer_usd: float, lost_customer_usd: float
) -> CostFigures:
    """Offers at probability >= cutoff; cost = offers x offer_usd + missed churners x lost_customer_usd."""
    churn = np.asarray(churn).astype(bool)
    offered = np.asarray(scores) >= cutoff
    caught, missed = int(np.count_nonzero(offered & churn)), int(np.count_nonzero(~offered & churn))
    return CostFigures(
        customers=len(churn),
        churners=int(churn.sum()),
        offered=int(offered.sum()),
        caught=caught,
        missed=missed,
        offer_usd=offer_usd,
        lost_customer_usd=lost_customer_usd,
        cost_at_cutoff=float(offered.sum() * offer_usd + missed * lost_customer_usd),
        cost_do_nothing=float(churn.sum() * lost_customer_usd),
    )


@dataclass(frozen=True)
class DriverSummary:
    """One driver across the test customers: how much it moves scores, and which way, in words."""

    label: str
    mean_abs_contribution: float
    direction: str


def driver_summaries(explainer: DriverExplainer, customers: pd.DataFrame) -> list[DriverSummary]:
    """The drivers that move the test customers' scores most, each with its direction in words."""
    rows = customers.to_dict("records")
    per_customer = [explainer.all_drivers(row)[0] for row in rows]
    summaries = []
    for index, group in enumerate(explainer.groups):
        contributions = np.array([drivers[index].contribution for drivers in per_customer])
        if not np.any(contributions):
            continue
        summaries.append(
            DriverSummary(
                label=group.label,
                mean_abs_contribution=float(np.mean(np.abs(contributions))),
                direction=_direction(group.label, group.columns, customers, contributions),
            )
        )
    summaries.sort(key=lambda summary: -summary.mean_abs_contribution)
    return summaries


def _direction(label: str, columns: Sequence[str], customers: pd.DataFrame, contributions: np.ndarray) -> str:
    """'no international plan lowers churn risk', 'more customer service calls raise churn risk'."""
    yes_no = [column for column in columns if column in YES_NO_COLUMNS]
    if yes_no:
        has = (customers[yes_no[0]].astype(str) == "yes").to_numpy()
        if has.all() or not has.any():
            return f"all test customers have the same {PLAIN_NAMES[yes_no[0]]}"
        name = PLAIN_NAMES[yes_no[0]]
        with_it, without = contributions[has].mean(), contributions[~has].mean()
        article = "an" if name[0] in "aeiou" else "a"
        if with_it > without:
            return f"having {article} {name} raises churn risk; no {name} lowers it"
        return f"no {name} raises churn risk; having {article} {name} lowers it"
    numeric = [column for column in columns if pd.api.types.is_numeric_dtype(customers[column])]
    if not numeric or len(numeric) < len(columns):
        by_value = pd.Series(contributions).groupby(customers[columns[0]].astype(str).to_numpy()).mean()
        name = PLAIN_NAMES.get(columns[0], columns[0])
        return f"differs by {name}: highest for {by_value.idxmax()}, lowest for {by_value.idxmin()}"
    quantity = _quantity(columns, customers)
    correlation = pd.Series(quantity).corr(pd.Series(contributions), method="spearman")
    if pd.isna(correlation) or abs(correlation) < MIN_DIRECTION_CORRELATION:
        return "no consistent direction (it depends on the customer's other values)"
    more = MORE_WORDS.get(label, f"the more {label}")
    return f"{more}, the {'higher' if correlation > 0 else 'lower'} the churn risk"


def _quantity(columns: Sequence[str], customers: pd.DataFrame) -> np.ndarray:
    """What 'more' means for a driver: total minutes for the usage group, total calls for calls."""
    for family in (MINUTES_COLUMNS, CALLS_COLUMNS):
        chosen = [column for column in columns if column in family]
        if chosen:
            return customers[chosen].to_numpy(dtype=np.float64).sum(axis=1)
    return customers[columns[0]].to_numpy(dtype=np.float64)


def flag_segments(segments: pd.DataFrame, overall: Mapping[str, float | None]) -> list[dict[str, Any]]:
    """Segment rows as percentages, each flagged where its churn rate or its share of churners caught
    differs from the whole test set's by LARGE_DIFFERENCE_POINTS or more, beyond its own noise."""
    rows = []
    for record in segments.to_dict(orient="records"):
        caught = None if pd.isna(record["false_negative_rate"]) else 1 - record["false_negative_rate"]
        rates = {
            "churn rate": (record["churn_rate"], record["rows"]),
            "churners caught": (caught, record["churners"]),
        }
        flags = []
        for name, (rate, trials) in rates.items():
            whole = overall[name]
            if rate is None or whole is None or not trials:
                continue
            low, high = wilson_interval(round(rate * trials), trials)
            if abs(100 * (rate - whole)) >= LARGE_DIFFERENCE_POINTS and not low <= whole <= high:
                flags.append(f"{name} {100 * rate:.0f}% vs {100 * whole:.0f}% overall")
        rows.append(
            {
                "segment": PLAIN_NAMES.get(record["segment"], record["segment"]),
                "group": record["value"],
                "customers": record["rows"],
                "churn rate": _percent(record["churn_rate"]),
                "churners caught": _percent(caught),
                "large difference": "; ".join(flags),
            }
        )
    return rows


def _percent(share: float | None) -> str:
    return "n/a" if share is None or pd.isna(share) else f"{100 * share:.1f}%"


def manager_html(
    figures: CostFigures,
    *,
    cutoff: float,
    trained_at: str,
    data_source: str,
    data: Mapping[str, Any],
    drivers: Sequence[DriverSummary],
    segments: Sequence[dict[str, Any]],
    rules_note_html: str,
    rules_offer_usd: tuple[float, float] | None = None,
    expectation: Sequence[str] = (),
    rows_note: str | None = None,
) -> str:
    """The section as HTML, every value escaped. `rows_note` replaces the drivers and the segments
    when the test customers' values are not here (their rows stayed in Aurora)."""
    e = html.escape
    percent = "n/a" if figures.saving_percent is None else f"{figures.saving_percent:.0f}%"
    per_thousand = figures.saving * 1000 / figures.customers if figures.customers else 0.0
    assumptions = [
        f"An incentive offer costs <b>${figures.offer_usd:,.2f}</b>; a customer who leaves costs "
        f"<b>${figures.lost_customer_usd:,.2f}</b> (set with <code>churnguard train --offer-usd</code> "
        "and <code>--lost-customer-usd</code>).",
        f"A customer gets an offer when the model's churn probability is at or above the cut-off "
        f"<b>{cutoff:g}</b>, the one with the lowest total cost on customers the model was not fitted on.",
        "The figures assume a churner who gets an offer stays; a churner without one is lost.",
        rules_note_html,
    ]
    outcome = [
        (
            "customers offered an incentive",
            f"{figures.offered:,} ({_share(figures.offered, figures.customers)} of customers)",
        ),
        (
            "churners caught (offered an incentive)",
            f"{figures.caught:,} of {figures.churners:,} ({_share(figures.caught, figures.churners)})",
        ),
        ("churners missed", f"{figures.missed:,}"),
        ("cost with the model", f"${figures.cost_at_cutoff:,.0f}"),
        ("cost of doing nothing (every churner lost)", f"${figures.cost_do_nothing:,.0f}"),
        (
            "saving against doing nothing",
            f"<b>${figures.saving:,.0f} ({percent})</b>, about ${per_thousand:,.0f} per 1,000 customers",
        ),
    ]
    if rules_offer_usd is not None:
        # The headline assumes the training's offer cost; the shipped rules pay less, so say both.
        cheapest, dearest = rules_offer_usd
        outcome.append(
            (
                f"saving with the shipped rules (${cheapest:,.0f} to ${dearest:,.0f} per offer)",
                f"${figures.saving_at(dearest):,.0f} to ${figures.saving_at(cheapest):,.0f} "
                "(the same customers offered, each offer at the rules' price)",
            )
        )
    model = (
        f"Trained on {e(trained_at)} from {e(data_source)}: {int(data.get('rows', 0)):,} customers, "
        f"{100 * float(data.get('churn_rate', 0)):.1f}% of whom churned (data fingerprint "
        f"<code>{e(str(data.get('fingerprint', 'n/a')))}</code>)."
    )
    flagged = sum(1 for row in segments if row["large difference"])
    segment_note = (
        f"{flagged} group(s) differ from the whole test set by {LARGE_DIFFERENCE_POINTS:.0f} percentage "
        "points or more, beyond what chance explains for a group of that size (the overall rate lies "
        "outside the group's 95% interval): they churn differently, or the model treats them "
        "differently; look at them before acting on the averages."
    )
    return "\n".join(
        [
            '<section id="for-managers">',
            "<h2>For managers: what the model saves and why</h2>",
            *(
                [
                    "<h3>What to expect</h3>",
                    "<ul>" + "".join(f"<li>{e(line)}</li>" for line in expectation) + "</ul>",
                ]
                if expectation
                else []
            ),
            "<h3>Cost assumptions</h3>",
            "<ul>" + "".join(f"<li>{item}</li>" for item in assumptions) + "</ul>",
            f"<h3>At the cut-off, on {figures.customers:,} test customers the model never saw</h3>",
            "<table>"
            + "".join(f"<tr><th>{e(name)}</th><td>{value}</td></tr>" for name, value in outcome)
            + "</table>",
            "<h3>The model</h3>",
            f"<p>{model}</p>",
            "<h3>What drives churn risk (largest first)</h3>",
            f"<p>{e(rows_note)}</p>"
            if rows_note
            else "<ul>"
            + "".join(
                f"<li><b>{e(driver.label)}</b>: {e(driver.direction)}</li>"
                for driver in drivers[:MANAGER_DRIVERS]
            )
            + "</ul>",
            "<h3>Churn by customer segment (test customers)</h3>",
            f"<p>{e(rows_note) if rows_note else segment_note}</p>",
            "" if rows_note else _segment_table(segments),
            "</section>",
        ]
    )


def _segment_table(segments: Sequence[dict[str, Any]]) -> str:
    if not segments:
        return "<p>(none)</p>"
    header = "".join(f"<th>{html.escape(key)}</th>" for key in segments[0])
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(value))}</td>" for value in row.values()) + "</tr>"
        for row in segments
    )
    return f"<table><tr>{header}</tr>{body}</table>"


def _share(part: int, whole: int) -> str:
    return "n/a" if whole == 0 else f"{100 * part / whole:.1f}%"
