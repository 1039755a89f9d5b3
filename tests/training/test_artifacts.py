"""The packaged model: loads in a fresh process and predicts the same values; metadata matches the model."""

from __future__ import annotations

import json
import subprocess
import sys
import tarfile
from pathlib import Path

import numpy as np
import xgboost as xgb

from churnguard.feature_spec import FeatureSpec
from churnguard.model_folder import ModelFolder
from training.artifacts import MODEL_MEMBER, load_model_tarball
from training.synthetic import HIGH_RISK_CUSTOMER, LOW_RISK_CUSTOMER, generate_customers

# Scores as the built-in container does: load the member with Booster.load_model, read text/csv rows
# without feature names into a DMatrix, predict with validate_features=False.
FRESH_PROCESS_SCORER = """
import sys, tarfile, numpy, xgboost
with tarfile.open(sys.argv[1], "r:gz") as archive:
    archive.extract("xgboost-model", sys.argv[2], filter="data")
booster = xgboost.Booster()
booster.load_model(sys.argv[2] + "/xgboost-model")
rows = numpy.loadtxt(sys.argv[3], delimiter=",", ndmin=2, dtype=float)
for score in booster.predict(xgboost.DMatrix(rows), validate_features=False):
    print(repr(float(score)))
"""


def _scores(booster: xgb.Booster, spec: FeatureSpec, rows: list[dict[str, object]]) -> np.ndarray:
    matrix = np.array([spec.values_for(row) for row in rows], dtype=np.float64)
    return booster.predict(xgb.DMatrix(matrix, feature_names=spec.names))


def test_tarball_holds_one_xgboost_model_member(trained_model_dir: Path) -> None:
    with tarfile.open(trained_model_dir / "model.tar.gz", "r:gz") as archive:
        assert archive.getnames() == [MODEL_MEMBER]
        member = archive.extractfile(MODEL_MEMBER)
        assert member is not None
        assert member.read() == (trained_model_dir / "model.json").read_bytes()


def test_the_artifact_predicts_the_same_in_a_fresh_process_from_csv(
    trained_model_dir: Path, tmp_path: Path
) -> None:
    spec = ModelFolder.read(trained_model_dir).feature_spec
    rows = generate_customers(40, seed=99).to_dict(orient="records")
    csv_path = tmp_path / "payload.csv"
    # The endpoint's text/csv payload: one line of feature values per customer, no header.
    csv_path.write_text(
        "\n".join(",".join(repr(value) for value in spec.values_for(row)) for row in rows) + "\n"
    )
    completed = subprocess.run(
        [
            sys.executable,
            "-c",
            FRESH_PROCESS_SCORER,
            str(trained_model_dir / "model.tar.gz"),
            str(tmp_path),
            str(csv_path),
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    fresh = np.array([float(line) for line in completed.stdout.split()])
    here = _scores(load_model_tarball(trained_model_dir / "model.tar.gz"), spec, rows)
    assert fresh.shape == (40,)
    assert np.array_equal(fresh, here)
    assert fresh.min() < 0.2 and fresh.max() > 0.5


def test_metadata_matches_the_model_feature_by_feature(trained_model_dir: Path) -> None:
    metadata = json.loads((trained_model_dir / "metadata.json").read_text())
    booster = load_model_tarball(trained_model_dir / "model.tar.gz")
    spec = ModelFolder.read(trained_model_dir).feature_spec
    assert booster.feature_names == metadata["features"] == spec.names
    assert booster.num_features() == len(metadata["features"])
    model_json = json.loads((trained_model_dir / "model.json").read_text())
    assert model_json["learner"]["feature_names"] == metadata["features"]
    used = set(booster.get_score(importance_type="weight"))
    assert used <= set(metadata["features"])
    chosen = metadata["metrics"]["chosen"]
    assert metadata["metrics"][chosen]["features"] == len(metadata["features"])
    assert metadata["versions"]["xgboost"] == xgb.__version__
    assert metadata["versions"]["container"] == "3.0-5"


def test_the_sample_customers_score_clearly_high_and_clearly_low(trained_model_dir: Path) -> None:
    spec = ModelFolder.read(trained_model_dir).feature_spec
    booster = load_model_tarball(trained_model_dir / "model.tar.gz")
    high, low = _scores(booster, spec, [HIGH_RISK_CUSTOMER, LOW_RISK_CUSTOMER])
    metadata = json.loads((trained_model_dir / "metadata.json").read_text())
    assert high > 0.8 and high > metadata["cutoff"]
    assert low < 0.1 and low < metadata["cutoff"]
