"""Drift against the real local server: SQL bin counts of a fresh sample of the training population
stay below PSI 0.1; a shifted population is flagged on exactly the shifted features and the score."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from churnguard.cli import main
from churnguard.db import PyMySqlClient
from churnguard.errors import UserError
from churnguard.lifecycle import psi
from churnguard.lifecycle.drift import DriftInputError, drift_for_model, live_bins_sql, references
from churnguard.lifecycle.identity import read_identity
from churnguard.local.install import install_churnguard
from churnguard.model_folder import ModelFolder
from churnguard.sqlgen.statements import REFRESH_PROCEDURE
from tests.fixtures.mariadb import database_url
from training.synthetic import generate_customers

pytestmark = pytest.mark.mariadb

LIVE_CUSTOMERS = 3_000
SHIFTED_COLUMNS = {"cust_service_calls", "day_mins"}


def shifted(customers: pd.DataFrame) -> pd.DataFrame:
    """Two more service calls for everyone and 30% more day minutes (the issue's example)."""
    moved = customers.copy()
    moved["cust_service_calls"] = moved["cust_service_calls"] + 2
    moved["day_mins"] = (moved["day_mins"] * 1.3).round(2)
    return moved


def test_same_population_is_stable_and_a_shifted_one_is_flagged_exactly(
    sql_client: PyMySqlClient, trained_model_dir: Path
) -> None:
    spec = ModelFolder.read(trained_model_dir).feature_spec
    moved_features = {f.name for f in spec.features if SHIFTED_COLUMNS & set(f.source_columns())}
    assert {"day_mins", "cust_service_calls"} <= moved_features  # the model uses them: a real check

    fresh = generate_customers(LIVE_CUSTOMERS, seed=4242)  # same generator, customers never trained on
    install_churnguard(sql_client, model_dir=trained_model_dir, customers=fresh)
    same = drift_for_model(sql_client, str(trained_model_dir))
    assert same["customers"] == LIVE_CUSTOMERS
    assert {item["name"]: item["psi"] < psi.WATCH for item in same["features"]} == dict.fromkeys(
        spec.names, True
    )
    assert same["score"]["psi"] < psi.WATCH
    assert (same["flagged"], same["retrain"]) == ([], False)

    install_churnguard(sql_client, model_dir=trained_model_dir, customers=shifted(fresh))
    moved = drift_for_model(sql_client, str(trained_model_dir))
    assert set(moved["flagged"]) == moved_features | {"score"}
    assert moved["retrain"] is True and moved["advice"].startswith("retrain:")
    levels = {item["name"]: item["level"] for item in [*moved["features"], moved["score"]]}
    assert levels["cust_service_calls"] == levels["day_mins"] == "act"


def test_sql_bins_equal_python_bins_on_the_cut_points_themselves(
    sql_client: PyMySqlClient, trained_model_dir: Path
) -> None:
    """Values exactly on a cut go up a bin in SQL as in training (bin = number of cuts <= value)."""
    folder = ModelFolder.read(trained_model_dir)
    spec = folder.feature_spec
    refs = references(folder)
    customers = generate_customers(50, seed=9)
    cuts = refs["day_mins"].cuts
    customers.loc[: len(cuts) - 1, "day_mins"] = [round(cut, 2) for cut in cuts]
    install_churnguard(sql_client, model_dir=trained_model_dir, customers=customers)
    rows = sql_client.query(live_bins_sql(spec, refs))
    position = spec.names.index("day_mins")
    sql_counts = {int(r["bucket"]): int(r["customers"]) for r in rows if int(r["feature"]) == position}
    python_counts = psi.bin_counts([float(v) for v in customers["day_mins"]], cuts)
    assert sql_counts == {index: count for index, count in enumerate(python_counts) if count}


def test_drift_command_writes_json_and_a_page_with_one_plot_per_flagged_feature(
    sql_client: PyMySqlClient, trained_model_dir: Path, mariadb_url: str, tmp_path: Path, capsys
) -> None:
    install_churnguard(
        sql_client, model_dir=trained_model_dir, customers=shifted(generate_customers(1_000, seed=5))
    )
    url = database_url(mariadb_url, sql_client.query("SELECT DATABASE() AS d")[0]["d"])
    page = tmp_path / "drift.html"
    code = main(["drift", "--json", "--html", str(page), "--model", str(trained_model_dir), "--db-url", url])
    assert code == 0
    report = json.loads(capsys.readouterr().out)
    assert {"model_id", "features", "score", "flagged", "retrain", "thresholds"} <= set(report)
    text = page.read_text()
    assert text.count("<svg") == len(report["flagged"]) > 0
    assert main(["drift", "--model", str(trained_model_dir), "--db-url", url]) == 0
    assert capsys.readouterr().out.strip().splitlines()[-1].startswith("retrain:")


def test_an_empty_score_table_is_reported_not_guessed(
    sql_client: PyMySqlClient, trained_model_dir: Path
) -> None:
    install_churnguard(sql_client, model_dir=trained_model_dir, customers=generate_customers(200, seed=6))
    sql_client.execute("DELETE FROM customer_scores")
    report = drift_for_model(sql_client, str(trained_model_dir))
    assert report["score"] is None and REFRESH_PROCEDURE in report["score_note"]


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda m: m.pop("reference"), r"no reference distributions .*retrain with `churnguard train`"),
        (
            lambda m: m["reference"]["features"].pop("day_mins"),
            r"no reference distribution for 'day_mins': retrain",
        ),
    ],
)
def test_a_missing_reference_is_a_clear_error(
    sql_client: PyMySqlClient, trained_model_dir: Path, tmp_path: Path, damage, message
) -> None:
    folder = Path(shutil.copytree(trained_model_dir, tmp_path / "model"))
    metadata = json.loads((folder / "metadata.json").read_text())
    damage(metadata)
    (folder / "metadata.json").write_text(json.dumps(metadata))
    install_churnguard(sql_client, model_dir=folder, customers=generate_customers(100, seed=7))
    with pytest.raises(DriftInputError, match=message):
        drift_for_model(sql_client, str(folder))


def test_drift_refuses_a_folder_that_is_not_the_live_model(
    sql_client: PyMySqlClient, trained_model_dir: Path, second_model_dir: Path
) -> None:
    install_churnguard(sql_client, model_dir=trained_model_dir, customers=generate_customers(100, seed=8))
    with pytest.raises(Exception, match=r"the database serves model [0-9a-f]{16} but .* pass --model"):
        drift_for_model(sql_client, str(second_model_dir))


def test_drift_finds_the_live_model_in_the_store_and_names_no_folder_that_does_not_exist(
    sql_client: PyMySqlClient,
    trained_model_dir: Path,
    second_model_dir: Path,
    mariadb_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)  # an empty working directory: no artifacts/ folder at all
    monkeypatch.setenv("CHURNGUARD_HOME", str(tmp_path / "home"))  # no local server recorded
    monkeypatch.delenv("CHURNGUARD_MODEL_DIR", raising=False)
    install_churnguard(sql_client, model_dir=trained_model_dir, customers=generate_customers(200, seed=9))
    url = database_url(mariadb_url, sql_client.query("SELECT DATABASE() AS d")[0]["d"])
    live = read_identity(trained_model_dir).model_id

    assert main(["drift", "--db-url", url]) == 2  # the live model's folder is nowhere to be found
    error = capsys.readouterr().err
    assert f"the database serves model {live}, and no folder found holds it" in error
    assert "artifacts" not in error and "churnguard models keep DIR" in error
    assert main(["drift", "--db-url", url, "--model", str(second_model_dir)]) == 2
    assert "artifacts" not in capsys.readouterr().err

    assert main(["models", "keep", str(trained_model_dir)]) == 0  # into ./artifacts/models/<id>
    capsys.readouterr()
    assert main(["drift", "--db-url", url]) == 0
    assert capsys.readouterr().out.startswith(f"Drift of model {live}")
    assert main(["drift", "--db-url", url, "--model", str(second_model_dir)]) == 2
    assert f"use --model artifacts/models/{live}, or leave --model out" in capsys.readouterr().err


def test_the_schedulable_procedure_stores_the_same_counts_drift_reads_back(
    sql_client: PyMySqlClient, trained_model_dir: Path
) -> None:
    install_churnguard(
        sql_client, model_dir=trained_model_dir, customers=shifted(generate_customers(1_000, seed=10))
    )
    now = drift_for_model(sql_client, str(trained_model_dir))
    with pytest.raises(UserError, match=r"no drift snapshot .*CALL churnguard_drift_snapshot\(\)"):
        drift_for_model(sql_client, str(trained_model_dir), snapshot=True)
    sql_client.execute("CALL churnguard_drift_snapshot()")
    stored = drift_for_model(sql_client, str(trained_model_dir), snapshot=True)
    assert stored["snapshot_taken_at"]
    assert {key: value for key, value in stored.items() if key != "snapshot_taken_at"} == now
