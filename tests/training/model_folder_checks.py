"""The checks a model folder from `churnguard train --sagemaker` passes, whichever way its rows went:
what `make deploy` reads, its id and drift reference, the SQL signature, the endpoint payload in a
fresh process, the drivers, and a report without phone numbers. Each takes (folder, metadata, tmp)."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import xgboost as xgb

from churnguard.drivers import DriverExplainer
from churnguard.model_folder import ModelFolder
from churnguard.sqlgen import render_deploy_sql
from infra.model_artifacts import load_model_artifacts
from tests.training.test_artifacts import FRESH_PROCESS_SCORER
from training.artifacts import load_model_tarball
from training.synthetic import HIGH_RISK_CUSTOMER, LOW_RISK_CUSTOMER, generate_customers


def deployable(out: Path, metadata: dict[str, Any], tmp_path: Path) -> None:
    names = {path.name for path in out.iterdir()}
    assert {"model.tar.gz", "model.json", "metadata.json", "report.html", "roc.png", "cost.png"} <= names
    loaded = load_model_artifacts(out, needs_tarball=True)
    assert loaded.folder.metadata_path == out / "metadata.json"
    assert not [path for path in out.parent.iterdir() if path.name.startswith(f".{out.name}.")]


def identity_and_drift_reference(out: Path, metadata: dict[str, Any], tmp_path: Path) -> None:
    from churnguard.lifecycle.drift import references
    from churnguard.lifecycle.identity import read_identity

    identity = read_identity(out)  # refuses an id that does not match model.json
    assert identity.model_id == metadata["model_id"]
    assert sorted(metadata["reference"]["features"]) == sorted(metadata["features"])
    assert metadata["reference"]["score"]["rows"] > 0
    references(ModelFolder.read(out))  # drift reads it


def sql_signature(out: Path, metadata: dict[str, Any], tmp_path: Path) -> None:
    spec = ModelFolder.read(out).feature_spec
    for mode, endpoint in (("endpoint", "churnguard-dev-churn"), ("in_database", None)):
        files = render_deploy_sql(out, inference_mode=mode, endpoint_name=endpoint)  # type: ignore[arg-type]
        text = "\n".join(file.text for file in files)
        (signature,) = re.findall(r"CREATE FUNCTION will_churn\(([^)]*)\)", text)
        assert [part.split()[0].strip("`") for part in signature.split(",")] == spec.names


def endpoint_payload(out: Path, metadata: dict[str, Any], tmp_path: Path) -> None:
    spec = ModelFolder.read(out).feature_spec
    rows = generate_customers(30, seed=77).to_dict(orient="records")
    payload = tmp_path / "payload.csv"
    payload.write_text("\n".join(",".join(repr(v) for v in spec.values_for(row)) for row in rows) + "\n")
    completed = subprocess.run(
        [sys.executable, "-c", FRESH_PROCESS_SCORER, str(out / "model.tar.gz"), str(tmp_path), str(payload)],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    fresh = np.array([float(line) for line in completed.stdout.split()])
    matrix = np.array([spec.values_for(row) for row in rows], dtype=np.float64)
    here = load_model_tarball(out / "model.tar.gz").predict(xgb.DMatrix(matrix, feature_names=spec.names))
    assert np.array_equal(fresh, here)


def drivers(out: Path, metadata: dict[str, Any], tmp_path: Path) -> None:
    explainer = DriverExplainer.from_model_dir(out)
    booster = load_model_tarball(out / "model.tar.gz")
    spec = explainer.spec
    probabilities = []
    for customer in (HIGH_RISK_CUSTOMER, LOW_RISK_CUSTOMER):
        expected = float(
            booster.predict(xgb.DMatrix(np.array([spec.values_for(customer)]), feature_names=spec.names))[0]
        )
        got = explainer.ensemble.probability(spec.values_for(customer))
        assert abs(got - expected) <= 1e-6
        found = explainer.top_drivers(customer)
        # A driver is a feature of the model or a group of them (churnguard.driver_groups).
        features = {share.feature for driver in found for share in driver.members} | {
            driver.feature for driver in found if not driver.members
        }
        assert found and features <= set(spec.names)
        probabilities.append(got)
    assert probabilities[0] > metadata["cutoff"] > probabilities[1]


def report_without_phone_numbers(out: Path, metadata: dict[str, Any], tmp_path: Path) -> None:
    report = (out / "report.html").read_text()
    assert f"SageMaker (tuning job {metadata['search']['tuning_job']})" in report
    assert not re.search(r"\b\d{3}-\d{4}\b", report)


FOLDER_CHECKS: tuple[Callable[[Path, dict[str, Any], Path], None], ...] = (
    deployable,
    identity_and_drift_reference,
    sql_signature,
    endpoint_payload,
    drivers,
    report_without_phone_numbers,
)
