"""The drift report as one HTML page: the PSI table and one small bar plot per flagged feature.

Plots are inline SVG written here (no plotting library, no script, no external file), so the page
opens anywhere and can be mailed. Values are escaped; the page holds bin shares only, never a
customer's data.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

BAR_WIDTH = 14
PLOT_HEIGHT = 90
REFERENCE_COLOUR = "#8c8c8c"
LIVE_COLOUR = "#d0473a"


def _plot(item: dict[str, Any]) -> str:
    """Reference (grey) and live (red) share of each bin, side by side."""
    reference, live = item["reference"], item["live"]
    top = max([*reference, *live, 1e-9])
    bars = []
    for index, (expected, actual) in enumerate(zip(reference, live, strict=True)):
        x = 4 + index * (2 * BAR_WIDTH + 6)
        for offset, share, colour in ((0, expected, REFERENCE_COLOUR), (BAR_WIDTH, actual, LIVE_COLOUR)):
            height = PLOT_HEIGHT * share / top
            bars.append(
                f'<rect x="{x + offset}" y="{PLOT_HEIGHT - height:.1f}" width="{BAR_WIDTH - 1}" '
                f'height="{height:.1f}" fill="{colour}"><title>bin {index}: {share:.1%}</title></rect>'
            )
    width = 8 + len(reference) * (2 * BAR_WIDTH + 6)
    cuts = ", ".join(f"{cut:g}" for cut in item["cuts"]) or "(one bin)"
    return (
        f"<figure><figcaption><b>{html.escape(item['name'])}</b>: PSI {item['psi']:.3f} "
        f"({html.escape(item['level'])})</figcaption>"
        f'<svg width="{width}" height="{PLOT_HEIGHT + 2}" role="img" '
        f'aria-label="bin shares of {html.escape(item["name"])}">{"".join(bars)}</svg>'
        f"<small>cuts: {html.escape(cuts)}</small></figure>"
    )


def drift_html(report: dict[str, Any]) -> str:
    items = [*report["features"], *([report["score"]] if report["score"] else [])]
    rows = "".join(
        f"<tr><td>{html.escape(item['name'])}</td><td>{item['psi']:.4f}</td>"
        f"<td>{html.escape(item['level'])}</td></tr>"
        for item in items
    )
    flagged = [item for item in items if item["level"] != "ok"]
    plots = "".join(_plot(item) for item in flagged) or "<p>No feature is flagged.</p>"
    note = f"<p>Score not measured: {html.escape(report['score_note'])}</p>" if report["score_note"] else ""
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>churnguard drift: model {html.escape(report['model_id'])}</title>"
        "<style>body{font-family:sans-serif;margin:2em}td,th{padding:2px 10px;text-align:left}"
        "figure{display:inline-block;margin:1em}</style></head><body>"
        f"<h1>Drift of model {html.escape(report['model_id'])}</h1>"
        f"<p>{report['customers']} customers. PSI below {report['thresholds']['watch']} is stable, "
        f"from {report['thresholds']['act']} act. <b>{html.escape(report['advice'])}</b></p>{note}"
        f"<table><tr><th>feature</th><th>PSI</th><th>level</th></tr>{rows}</table>"
        f"<h2>Flagged (grey: training rows, red: now)</h2>{plots}</body></html>\n"
    )


def write_drift_html(report: dict[str, Any], path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(drift_html(report), encoding="utf-8")
    return path
