"""Drift: how far the customers in the database have moved from the ones the model was trained on.

metadata.json's `reference` holds, per feature and for the score, quantile cut points and the share
of the training rows in each bin (training.artifacts.reference_distributions). The live side is
counted by the database with one GROUP BY per feature over `customers` (and one over
`customer_scores` for the score), so the same statement runs on Aurora and on the local MariaDB and
only bin counts leave the database, never a customer row. The population stability index (psi.py)
compares the two; a feature or the score at 0.25 or more says retrain.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from churnguard.errors import UserError
from churnguard.feature_spec import Feature, FeatureSpec
from churnguard.lifecycle import psi
from churnguard.lifecycle.identity import identity_of
from churnguard.lifecycle.registry import live_model
from churnguard.model_folder import ModelFolder
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


def references(folder: ModelFolder) -> dict[str, Reference]:
    """Per-feature (and score) reference bins from the folder's metadata.json, each checked; names the fix."""
    stored = folder.reference
    where = folder.metadata_path
    if stored is None or not isinstance(stored.get("features"), dict):
        raise DriftInputError(
            f"{where} has no reference distributions (trained before drift existed): "
            "retrain with `churnguard train` to record them"
        )
    result: dict[str, Reference] = {}
    for name in [*folder.features, SCORE]:
        item = stored.get(SCORE) if name == SCORE else stored["features"].get(name)
        if not isinstance(item, dict) or "cuts" not in item or "fractions" not in item:
            raise DriftInputError(
                f"{where} has no reference distribution for {name!r}: retrain with "
                "`churnguard train` (the reference is written for every feature of the model)"
            )
        cuts, fractions = [float(cut) for cut in item["cuts"]], [float(f) for f in item["fractions"]]
        if len(fractions) != len(cuts) + 1 or cuts != sorted(set(cuts)):
            raise DriftInputError(
                f"{where}: the reference of {name!r} has {len(cuts)} cuts and "
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


def live_bins_sql(spec: FeatureSpec, refs: dict[str, Reference], where: str = "") -> str:
    """One statement: (feature position, bin, customers) for every feature, one GROUP BY each, over
    every customer or those `where` selects (training bins its train rows the same way)."""
    condition = f" WHERE {where}" if where else ""
    parts = [
        f"SELECT {position} AS feature, {bin_expression(_feature_sql(feature), refs[feature.name].cuts)}"
        f" AS bucket, COUNT(*) AS customers FROM customers AS c{condition} GROUP BY bucket"
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


def live_counts(
    client: SqlClient, spec: FeatureSpec, refs: dict[str, Reference]
) -> dict[str, dict[int, int]]:
    """Bin counts per feature name (and SCORE) counted by the database now."""
    counts: dict[str, dict[int, int]] = {name: {} for name in [*spec.names, SCORE]}
    for row in client.query(live_bins_sql(spec, refs)):
        counts[spec.names[int(row["feature"])]][int(row["bucket"])] = int(row["customers"])
    for row in client.query(score_bins_sql(refs)):
        counts[SCORE][int(row["bucket"])] = int(row["customers"])
    return counts


LATEST_SNAPSHOT_SQL = """
SELECT feature, bucket, customers, taken_at FROM drift_snapshots
WHERE model_id = %(model_id)s
  AND taken_at = (SELECT MAX(taken_at) FROM drift_snapshots WHERE model_id = %(model_id)s)
"""


def snapshot_counts(
    client: SqlClient, spec: FeatureSpec, model_id: str
) -> tuple[dict[str, dict[int, int]], str]:
    """Bin counts from the latest churnguard_drift_snapshot() of this model, and when it was taken."""
    rows = client.query(LATEST_SNAPSHOT_SQL, {"model_id": model_id})
    if not rows:
        raise UserError(
            f"no drift snapshot of model {model_id}: run `CALL churnguard_drift_snapshot();` (or schedule "
            "it, docs/lifecycle.md), or measure now without --snapshot"
        )
    counts: dict[str, dict[int, int]] = {name: {} for name in [*spec.names, SCORE]}
    for row in rows:
        if row["feature"] in counts:
            counts[row["feature"]][int(row["bucket"])] = int(row["customers"])
    return counts, str(rows[0]["taken_at"])


def measure_drift(
    client: SqlClient, spec: FeatureSpec, refs: dict[str, Reference], *, model_id: str
) -> dict[str, Any]:
    """The drift report from counts the database makes now (see drift_report)."""
    return drift_report(spec, refs, live_counts(client, spec, refs), model_id=model_id)


def drift_report(
    spec: FeatureSpec, refs: dict[str, Reference], counts: dict[str, dict[int, int]], *, model_id: str
) -> dict[str, Any]:
    """The drift report: PSI per feature and for the score, the flagged ones, whether to retrain."""
    features = [_entry(name, refs[name], counts[name]) for name in spec.names]
    customers = max((sum(counts[name].values()) for name in spec.names), default=0)
    if customers == 0:
        raise UserError("the customers table is empty: load customers before measuring drift")
    score = _entry(SCORE, refs[SCORE], counts[SCORE]) if counts[SCORE] else None
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


def drift_for_model(client: SqlClient, model_dir: str, *, snapshot: bool = False) -> dict[str, Any]:
    """Drift of the database's customers against a model folder's references, after checking that
    the folder holds the model the database serves (else the comparison would mean nothing). With
    `snapshot`, from the latest stored churnguard_drift_snapshot() instead of counting now."""
    folder = ModelFolder.read(model_dir)
    identity = identity_of(folder)
    live = live_model(client)
    if live["id"] != identity.model_id:
        raise UserError(
            f"the database serves model {live['id']} but {model_dir} holds model {identity.model_id}: "
            f"pass --model with the folder of {live['id']}, or leave --model out to use the one found"
        )
    spec = folder.feature_spec
    refs = references(folder)
    if not snapshot:
        return measure_drift(client, spec, refs, model_id=identity.model_id)
    counts, taken_at = snapshot_counts(client, spec, identity.model_id)
    return {**drift_report(spec, refs, counts, model_id=identity.model_id), "snapshot_taken_at": taken_at}


SNAPSHOT_PROCEDURE = "churnguard_drift_snapshot"


def snapshot_procedure_statements(folder: ModelFolder, model_id: str) -> list[str]:
    """DROP + CREATE of churnguard_drift_snapshot(): the same bin counts as `churnguard drift`,
    stored in drift_snapshots under one timestamp. Feature names are written as literals (a
    procedure body takes no bound parameters), so each is checked to be a plain identifier."""
    spec = folder.feature_spec
    refs = references(folder)
    names = [*spec.names, SCORE]
    for name in names:
        if not name.isidentifier() or len(name) > 64:
            raise DriftInputError(f"feature name {name!r} is not a plain identifier: retrain")
    if not re.fullmatch(r"[0-9a-f]{16}", model_id):
        raise DriftInputError(f"model id {model_id!r} is not 16 hex digits")
    label = (
        "CASE bins.feature " + " ".join(f"WHEN {i} THEN '{name}'" for i, name in enumerate(names)) + " END"
    )
    score = score_bins_sql(refs).replace("SELECT ", f"SELECT {len(spec.names)} AS feature, ", 1)
    return [
        f"DROP PROCEDURE IF EXISTS {SNAPSHOT_PROCEDURE}",
        f"CREATE PROCEDURE {SNAPSHOT_PROCEDURE}()\n"
        # As its caller: the API user may EXECUTE routines but must not write drift_snapshots.
        "    MODIFIES SQL DATA SQL SECURITY INVOKER\n"
        f"    COMMENT 'churnguard: drift bin counts for model {model_id}'\n"
        "BEGIN\n"
        "    INSERT INTO drift_snapshots (taken_at, model_id, feature, bucket, customers)\n"
        f"    SELECT UTC_TIMESTAMP(6), '{model_id}', {label}, bins.bucket, bins.customers FROM (\n"
        f"{live_bins_sql(spec, refs)}\nUNION ALL\n{score}\n"
        "    ) AS bins;\n"
        "END",
    ]
