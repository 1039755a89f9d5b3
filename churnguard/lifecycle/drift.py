"""Drift: how far the customers in the database have moved from the ones the model was trained on.

metadata.json's `reference` holds, per feature and for the score, quantile cut points and the share
of the training rows in each bin (training.artifacts.reference_distributions). The live side is
counted by the database with one GROUP BY per feature over `customers` (and one over
`customer_scores` for the score), so the same statement runs on Aurora and on the local MariaDB and
only bin counts leave the database, never a customer row. The population stability index (psi.py)
compares the two; a feature or the score at 0.25 or more says retrain.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from churnguard.errors import UserError
from churnguard.feature_spec import Feature, FeatureSpec
from churnguard.lifecycle import psi
from churnguard.sql_client import SqlClient
from churnguard.sqlgen.functions import feature_argument

SCORE = "score"
SCORE_SOURCE = "customer_scores"


class DriftInputError(UserError):
    """The model folder's reference distributions are missing or incomplete."""


@dataclass(frozen=True)
class Reference:
    cuts: list[float]
    fractions: list[float]


def references(metadata: dict[str, Any], spec: FeatureSpec, folder: str) -> dict[str, Reference]:
    """Per-feature (and score) reference bins from metadata.json, each checked; names the fix."""
    stored = metadata.get("reference")
    if not isinstance(stored, dict) or "features" not in stored:
        raise DriftInputError(
            f"{folder}/metadata.json has no reference distributions (trained before drift existed): "
            "retrain with `churnguard train` to record them"
        )
    result: dict[str, Reference] = {}
    for name in [*spec.names, SCORE]:
        item = stored.get(SCORE) if name == SCORE else stored["features"].get(name)
        if not isinstance(item, dict) or "cuts" not in item or "fractions" not in item:
            raise DriftInputError(
                f"{folder}/metadata.json has no reference distribution for {name!r}: retrain with "
                "`churnguard train` (the reference is written for every feature of the model)"
            )
        cuts, fractions = [float(cut) for cut in item["cuts"]], [float(f) for f in item["fractions"]]
        if len(fractions) != len(cuts) + 1 or cuts != sorted(set(cuts)):
            raise DriftInputError(
                f"{folder}/metadata.json: the reference of {name!r} has {len(cuts)} cuts and "
                f"{len(fractions)} bins (needs one bin more than cuts, cuts increasing): retrain"
            )
        result[name] = Reference(cuts, fractions)
    return result


def _double(value: float) -> str:
    text = repr(float(value))
    return text if "e" in text else text + "e0"


def bin_expression(value_sql: str, cuts: list[float]) -> str:
    """SQL for the bin of a value: the number of cuts <= value (psi.bin_of), -1 for NULL."""
    arms = "".join(f" WHEN {value_sql} < {_double(cut)} THEN {index}" for index, cut in enumerate(cuts))
    return f"CASE WHEN {value_sql} IS NULL THEN -1{arms} ELSE {len(cuts)} END"


def _feature_sql(feature: Feature) -> str:
    return feature_argument(feature, "c", inline=True)


def live_bins_sql(spec: FeatureSpec, refs: dict[str, Reference]) -> str:
    """One statement: (feature position, bin, customers) for every feature, one GROUP BY each."""
    parts = [
        f"SELECT {position} AS feature, {bin_expression(_feature_sql(feature), refs[feature.name].cuts)}"
        " AS bucket, COUNT(*) AS customers FROM customers AS c GROUP BY bucket"
        for position, feature in enumerate(spec.features)
    ]
    return "\nUNION ALL\n".join(parts)


def score_bins_sql(refs: dict[str, Reference]) -> str:
    return (
        f"SELECT {bin_expression('s.churn_probability', refs[SCORE].cuts)} AS bucket, COUNT(*) AS customers"
        f" FROM {SCORE_SOURCE} AS s GROUP BY bucket"
    )


def _shares(counts: dict[int, int], bins: int) -> tuple[list[float], int, int]:
    counted = sum(count for index, count in counts.items() if index >= 0)
    missing = counts.get(-1, 0)
    if counted == 0:
        return [0.0] * bins, 0, missing
    return [counts.get(index, 0) / counted for index in range(bins)], counted, missing


def _entry(name: str, ref: Reference, counts: dict[int, int]) -> dict[str, Any]:
    live, counted, missing = _shares(counts, len(ref.fractions))
    value = psi.psi(ref.fractions, live)
    return {
        "name": name,
        "psi": round(value, 4),
        "level": psi.level(value),
        "customers": counted,
        "missing_values": missing,
        "cuts": ref.cuts,
        "reference": ref.fractions,
        "live": [round(share, 6) for share in live],
    }


def measure_drift(
    client: SqlClient, spec: FeatureSpec, refs: dict[str, Reference], *, model_id: str
) -> dict[str, Any]:
    """The drift report: PSI per feature and for the score, the flagged ones, whether to retrain."""
    counts: list[dict[int, int]] = [{} for _ in spec.features]
    for row in client.query(live_bins_sql(spec, refs)):
        counts[int(row["feature"])][int(row["bucket"])] = int(row["customers"])
    features = [_entry(f.name, refs[f.name], counts[i]) for i, f in enumerate(spec.features)]
    customers = max((sum(c.values()) for c in counts), default=0)
    if customers == 0:
        raise UserError("the customers table is empty: load customers before measuring drift")
    score_counts = {int(row["bucket"]): int(row["customers"]) for row in client.query(score_bins_sql(refs))}
    score = _entry(SCORE, refs[SCORE], score_counts) if score_counts else None
    flagged = [item["name"] for item in [*features, *([score] if score else [])] if item["level"] != "ok"]
    acting = [item["name"] for item in [*features, *([score] if score else [])] if item["level"] == "act"]
    return {
        "model_id": model_id,
        "customers": customers,
        "thresholds": {"watch": psi.WATCH, "act": psi.ACT},
        "features": features,
        "score": score,
        "score_note": None
        if score
        else f"{SCORE_SOURCE} is empty: run `CALL refresh_customer_scores();` (in-database model) to score "
        "the customers, then measure again",
        "flagged": flagged,
        "retrain": bool(acting),
        "advice": _advice(acting, flagged),
    }


def _advice(acting: list[str], flagged: list[str]) -> str:
    if acting:
        return (
            f"retrain: {', '.join(acting)} moved past PSI {psi.ACT}; train on recent customers, verify, "
            "deploy, and compare the models in `churnguard offers report` (docs/lifecycle.md)"
        )
    if flagged:
        return f"watch: {', '.join(flagged)} moved past PSI {psi.WATCH}; no retraining needed yet"
    return "stable: no feature and not the score moved past PSI 0.1"


def format_drift(report: dict[str, Any]) -> str:
    lines = [
        f"Drift of model {report['model_id']} over {report['customers']} customers "
        f"(PSI: < {psi.WATCH} stable, {psi.WATCH}-{psi.ACT} watch, >= {psi.ACT} act)",
        "",
        f"{'feature':<28} {'PSI':>8}  level",
    ]
    for item in [*report["features"], *([report["score"]] if report["score"] else [])]:
        lines.append(f"{item['name']:<28} {item['psi']:>8.4f}  {item['level']}")
    if report["score_note"]:
        lines.append(f"score: not measured ({report['score_note']})")
    lines += ["", report["advice"]]
    return "\n".join(lines)


def drift_for_model(client: SqlClient, model_dir: str) -> dict[str, Any]:
    """Drift of the database's customers against a model folder's references, after checking that
    the folder holds the model the database serves (else the comparison would mean nothing)."""
    from churnguard.lifecycle.identity import read_identity, read_metadata
    from churnguard.lifecycle.registry import live_model
    from churnguard.lifecycle.store import DEFAULT_STORE

    identity = read_identity(model_dir)
    live = live_model(client)
    if live["id"] != identity.model_id:
        raise UserError(
            f"the database serves model {live['id']} but {model_dir} holds model {identity.model_id}: "
            f"pass --model with the folder of {live['id']} (kept as {DEFAULT_STORE}/{live['id']})"
        )
    metadata = read_metadata(identity.folder)
    spec = FeatureSpec.from_json(metadata["feature_spec"])
    return measure_drift(client, spec, references(metadata, spec, str(model_dir)), model_id=identity.model_id)
