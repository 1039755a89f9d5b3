"""`churnguard train --sagemaker --from-table`: the rows stay in the database, end to end.

The database is the real local MariaDB standing in for Aurora (tests/training/sagemaker/aurora_s3.py: its
INTO OUTFILE writes the files Aurora would write to S3, here moto's); SageMaker is the Stubber
stand-in whose jobs train and score real xgboost models from those files. The tests read the rows
themselves (from the DataFrame they loaded) to recompute what the launcher must have got from
aggregates and predictions alone.
"""

from __future__ import annotations

import hashlib
import html
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import xgboost as xgb
from moto import mock_aws

from churnguard.dataapi import to_named_parameters
from churnguard.db import PyMySqlClient, connect
from churnguard.errors import UserError
from churnguard.model_folder import ModelFolder
from churnguard.sqlgen.files import apply_sql_files, static_sql_files
from churnguard.sqlgen.loading import load_customers as insert_customers
from tests.fixtures.mariadb import scratch_database
from tests.training.model_folder_checks import FOLDER_CHECKS
from tests.training.sagemaker.aurora_s3 import AuroraWithS3, ReadRecordingS3
from tests.training.sagemaker.sagemaker_service import BUCKET, IMAGE, StubbedSageMaker, settings
from tests.training.sagemaker.test_run import RecordingProgress
from tests.training.sagemaker.test_table_sql import documented_split
from training.artifacts import load_model_tarball
from training.cutoff import CostModel, smoothed_optimal_cutoff
from training.features import labels
from training.report import ROWS_IN_AURORA_NOTE
from training.sagemaker.package import ScoredModel, trained_rows_reference
from training.sagemaker.run import Clients, RunOptions, SageMakerTrainer
from training.sagemaker.table_export import ExportWait, TableExporter, TableExportError
from training.sagemaker.table_rows import SOURCE, TableContentError, TableRows
from training.sagemaker.table_sql import table_fingerprint
from training.synthetic import generate_customers

pytestmark = pytest.mark.mariadb

SEED = 5
ROWS = 1500
PHONE = re.compile(rb"\b\d{3}-\d{4}\b")


def customers() -> pd.DataFrame:
    return generate_customers(ROWS, seed=SEED).sort_values(["area_code", "phone"], ignore_index=True)


@pytest.fixture(scope="module")
def database(mariadb_url: str) -> Iterator[PyMySqlClient]:
    with scratch_database(mariadb_url, "table_run") as url:
        client = connect(url)
        apply_sql_files(client, static_sql_files())
        insert_customers(client, customers())
        try:
            yield client
        finally:
            client.close()


def run_from_table(
    database: PyMySqlClient,
    folder: Path,
    *,
    times_out: Any = lambda _: False,
    answer_lost: bool = False,
    wait: ExportWait | None = None,
    queue: bool = True,
    instances: int = 1,
) -> dict[str, Any]:
    """One run; what it wrote, what the launcher read, and what the stand-ins saw."""
    (folder / "server").mkdir(parents=True)
    out = folder / "model"
    with mock_aws():
        launch = settings(data_from_table=True, instance_count=instances)
        service = StubbedSageMaker(launch)
        if queue:
            service.queue_successful_run(batch_transform=True, train_scores=True)
        launcher_s3 = ReadRecordingS3(service.s3)
        aurora = AuroraWithS3(
            database, service.s3, folder / "server", times_out=times_out, answer_lost=answer_lost
        )
        progress = RecordingProgress()
        exporter = TableExporter(
            aurora, launcher_s3, BUCKET, progress, wait or ExportWait(poll_s=0.0, sleep=aurora.finish_pending)
        )
        trainer = SageMakerTrainer(
            Clients(service.sagemaker, launcher_s3),
            launch,
            IMAGE,
            RunOptions(seed=SEED, data_source=SOURCE, wait={"poll_s": 0.0, "sleep": lambda _: None}),
            progress,
        )
        result: dict[str, Any] = {"out": out, "service": service, "aurora": aurora, "progress": progress}
        try:
            result["metadata"] = trainer.run(TableRows(exporter, launch, seed=SEED), out)
            service.stubber.assert_no_pending_responses()
        except UserError as error:
            result["error"] = error
        result["reads"] = launcher_s3.reads
        result["objects"] = service.objects()
    return result


@pytest.fixture(scope="module")
def finished(database: PyMySqlClient, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return run_from_table(database, tmp_path_factory.mktemp("table-run"))


@pytest.mark.parametrize("check", FOLDER_CHECKS, ids=lambda check: check.__name__)
def test_the_folder_passes_the_model_folder_checks(
    finished: dict[str, Any], check: Any, tmp_path: Path
) -> None:
    check(finished["out"], finished["metadata"], tmp_path)


def test_the_launcher_reads_aggregates_and_predictions_never_rows(finished: dict[str, Any]) -> None:
    run = f"{settings().run_name}"
    aggregates, predictions = [], []
    for key, body in finished["reads"]:
        # Neither a channel nor the rows to score: under staging/ only Aurora's manifests (file lists).
        assert "/staging/" not in key or key.endswith(".manifest"), key
        assert not PHONE.search(body), key
        if key.startswith(f"tmp/training/{run}/aggregates/") and not key.endswith(".manifest"):
            aggregates.append(body)
        elif key.startswith(f"model/{run}/output/") and key.endswith(".out"):
            predictions.append(body)
        else:
            assert key.endswith(".manifest") or key.endswith("/output/model.tar.gz"), key
    # Aggregates: counts, cut points, categories, order statistics, bin counts: far fewer lines than
    # customers, however many customers there are.
    aggregate_lines = sum(body.count(b"\n") for body in aggregates)
    assert 0 < aggregate_lines < 400
    # Predictions: a label and a score per line, for the validation and test rows (both models) and
    # the chosen model's train rows: no other column came back.
    lines = [line for body in predictions for line in body.decode().splitlines()]
    assert all(re.fullmatch(r"[01],[0-9.e-]+", line) for line in lines)
    data = finished["metadata"]["data"]
    assert len(lines) == 2 * (data["validation_rows"] + data["test_rows"]) + data["train_rows"]


def test_every_statement_is_an_export_the_data_api_can_carry(finished: dict[str, Any]) -> None:
    statements = finished["aurora"].statements
    assert statements and all("\nINTO OUTFILE S3 's3://" in sql for sql, _ in statements)
    for sql, params in statements:
        converted, parameters = to_named_parameters(sql, params)
        assert "%(" not in converted and {p["name"] for p in parameters} <= set(params)
        location = sql.split("INTO OUTFILE S3 '", 1)[1].split("'", 1)[0]
        assert location.startswith(f"s3://{BUCKET}/tmp/training/{settings().run_name}/")


def test_the_jobs_read_what_aurora_wrote_and_everything_is_removed(finished: dict[str, Any]) -> None:
    (tuning,) = finished["service"].requests["CreateHyperParameterTuningJob"]
    channels = tuning["TrainingJobDefinition"]["InputDataConfig"]
    prefix = f"s3://{BUCKET}/tmp/training/{settings().run_name}/staging/"
    assert [c["DataSource"]["S3DataSource"]["S3Uri"] for c in channels] == [
        f"{prefix}train/",
        f"{prefix}validation/",
    ]
    transforms = finished["service"].requests["CreateTransformJob"]
    assert [job["TransformInput"]["DataSource"]["S3DataSource"]["S3Uri"] for job in transforms] == [
        f"{prefix}score/",
        f"{prefix}reduced-score/",
        f"{prefix}{'reduced-' if finished['metadata']['metrics']['chosen'] == 'reduced' else ''}train/",
    ]
    assert finished["objects"] == []


def _parts(table: pd.DataFrame) -> dict[str, pd.DataFrame]:
    keyed = table.set_index(["area_code", "phone"])
    return {
        part: keyed.loc[sorted(keys)].reset_index() for part, keys in documented_split(table, SEED).items()
    }


def _scores(out: Path, rows: pd.DataFrame) -> np.ndarray:
    spec = ModelFolder.read(out).feature_spec
    matrix = np.array([spec.values_for(row) for row in rows.to_dict("records")], dtype=np.float64)
    return load_model_tarball(out / "model.tar.gz").predict(xgb.DMatrix(matrix, feature_names=spec.names))


def test_the_cutoff_and_costs_come_from_the_documented_parts(finished: dict[str, Any]) -> None:
    metadata, out = finished["metadata"], finished["out"]
    parts = _parts(customers())
    cutoff, _ = smoothed_optimal_cutoff(
        labels(parts["validation"]), _scores(out, parts["validation"]), CostModel()
    )
    assert metadata["cutoff"] == cutoff
    assert metadata["cost"]["cutoff_chosen_on"] == "validation"
    data = metadata["data"]
    assert (data["train_rows"], data["validation_rows"], data["test_rows"]) == tuple(
        len(parts[part]) for part in ("train", "validation", "test")
    )
    assert metadata["cost"]["test_rows"] == len(parts["test"])
    test_churn = labels(parts["test"])
    assert metadata["cost"]["do_nothing"] == 500 * int(test_churn.sum())
    assert data["split"] == "project" and "SHA-256" in data["split_rule"]
    assert json.loads((out / "metadata.json").read_text()) == metadata


def test_the_drift_reference_is_the_one_local_code_computes_from_the_train_rows(
    finished: dict[str, Any],
) -> None:
    metadata, out = finished["metadata"], finished["out"]
    spec = ModelFolder.read(out).feature_spec
    booster = load_model_tarball(out / "model.tar.gz")
    booster.feature_names = spec.names
    chosen = ScoredModel(spec, booster, np.array([]), np.array([]), {}, "job")
    assert metadata["reference"] == trained_rows_reference(_parts(customers())["train"], chosen)


def test_the_fingerprint_is_the_documented_rule_over_the_labelled_rows(finished: dict[str, Any]) -> None:
    table = customers()
    chunks = [0] * 4
    for row in table.to_dict("records"):
        text = ",".join(
            f"{row[name]:.2f}"
            if name.endswith(("_mins", "_charge"))
            else str(int(row[name]))
            if name == "churn"
            else str(row[name])
            for name in table.columns
        )
        digest = hashlib.sha256(text.encode()).hexdigest()
        chunks = [chunk ^ int(digest[16 * n : 16 * n + 16], 16) for n, chunk in enumerate(chunks)]
    data = finished["metadata"]["data"]
    assert data["fingerprint"] == table_fingerprint(ROWS, chunks)
    assert (data["rows"], data["unlabelled_rows_left_out"]) == (ROWS, 0)
    assert data["churn_rate"] == round(float(table["churn"].mean()), 6)


def test_the_report_says_what_it_cannot_show_without_the_rows(finished: dict[str, Any]) -> None:
    report = (finished["out"] / "report.html").read_text()
    assert report.count(html.escape(ROWS_IN_AURORA_NOTE)) == 3  # drivers, segments, and the segment table
    assert "<th>false_positive_rate</th>" not in report  # no segment table was made up


def test_statements_past_the_data_apis_45_seconds_are_waited_for(
    database: PyMySqlClient, finished: dict[str, Any], tmp_path: Path
) -> None:
    """Every channel export outlives its call: the run waits for each manifest and ends the same."""
    run = run_from_table(database, tmp_path, times_out=lambda select: "ORDER BY c.area_code" in select)
    assert run["metadata"] == finished["metadata"]
    assert (run["out"] / "model.tar.gz").read_bytes() == (finished["out"] / "model.tar.gz").read_bytes()
    waits = [line for line in run["progress"].lines if "waiting for Aurora to write" in line]
    assert len(waits) == 8  # train, validation and the two parts to score, for each model


def test_a_statement_whose_answer_is_lost_is_waited_for_not_run_again(
    database: PyMySqlClient, finished: dict[str, Any], tmp_path: Path
) -> None:
    """No answer within the socket's read timeout: the export may run on, so the run waits for its
    manifest, as after the Data API's own timeout, and never sends the statement a second time."""
    is_train_channel = lambda select: "ORDER BY c.area_code" in select  # noqa: E731
    run = run_from_table(database, tmp_path, times_out=is_train_channel, answer_lost=True)
    assert run["metadata"] == finished["metadata"]
    sent = [sql for sql, _ in run["aurora"].statements]
    assert len(sent) == len(set(sent)) == len(finished["aurora"].statements)


def test_the_table_run_sends_each_statement_once_per_call(tmp_path: Path) -> None:
    """The command's Data API client makes one attempt per call: botocore's retry of a lost answer
    would start a second export writing the same files while the first runs on."""
    import boto3

    from churnguard.commands.train import table_data_api_client

    client = table_data_api_client(
        session=boto3.Session(region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="y"),
        cluster_arn="arn:aws:rds:eu-west-1:1:cluster:c",
        secret_arn="arn:s",
        database="d",
    )
    assert client._rds_data.meta.config.retries["total_max_attempts"] == 1


def test_each_training_instance_gets_its_own_train_file(database: PyMySqlClient, tmp_path: Path) -> None:
    """Distributed training: one export per instance, the jobs' train channel sharded by S3 key."""
    run = run_from_table(database, tmp_path, instances=2)
    assert "metadata" in run, run.get("error")
    locations = [
        sql.split("/staging/", 1)[1].split("'", 1)[0]
        for sql, _ in run["aurora"].statements
        if "/staging/" in sql
    ]
    assert [location for location in locations if "train/" in location] == [
        "train/part-00000",
        "train/part-00001",
        "reduced-train/part-00000",
        "reduced-train/part-00001",
    ]
    (tuning,) = run["service"].requests["CreateHyperParameterTuningJob"]
    train = tuning["TrainingJobDefinition"]["InputDataConfig"][0]["DataSource"]["S3DataSource"]
    assert train["S3DataDistributionType"] == "ShardedByS3Key"
    assert run["metadata"]["trained_on"]["instance_count"] == 2
    assert run["objects"] == []


def test_a_statement_that_never_finishes_ends_the_run_with_a_named_error(
    database: PyMySqlClient, tmp_path: Path
) -> None:
    clock = iter([0.0, 0.0, 3000.0, 3000.0])
    run = run_from_table(
        database,
        tmp_path,
        times_out=lambda select: "BIT_XOR" in select,
        wait=ExportWait(poll_s=60.0, max_wait_s=3000.0, sleep=lambda _: None, clock=lambda: next(clock)),
        queue=False,
    )
    error = run["error"]
    assert isinstance(error, TableExportError)
    assert "Aurora had not finished writing the table's counts" in str(error)
    assert "aggregates/facts.manifest" in str(error) and "SHOW PROCESSLIST" in str(error)
    assert "CreateHyperParameterTuningJob" not in run["service"].requests
    assert run["objects"] == []


def test_bad_content_is_a_named_error_before_any_job(sql_client: PyMySqlClient, tmp_path: Path) -> None:
    table = customers()
    apply_sql_files(sql_client, static_sql_files())
    insert_customers(sql_client, table)
    phones = table["phone"].tolist()
    sql_client.execute(
        "UPDATE customers SET int_plan = 'YES' WHERE phone IN (%(a)s, %(b)s)",
        {"a": phones[0], "b": phones[1]},
    )
    sql_client.execute("UPDATE customers SET churn = 3 WHERE phone = %(p)s", {"p": phones[2]})
    run = run_from_table(sql_client, tmp_path, queue=False)
    error = run["error"]
    assert isinstance(error, TableContentError)
    assert error.problems[0].startswith(
        "churn is neither 0 nor 1 (a TINYINT(1) column also stores -128..127): 1 customer(s)"
    )
    assert error.problems[1].startswith(
        "int_plan is not exactly 'yes' or 'no' (will_churn compares it byte for byte): 2 customer(s)"
    )
    assert "fix with UPDATE customers SET int_plan = LOWER(TRIM(int_plan))" in error.problems[1]
    assert len(error.problems) == 2
    assert "CreateHyperParameterTuningJob" not in run["service"].requests
    assert run["objects"] == []


def test_a_table_too_small_for_the_parts_is_a_named_error(sql_client: PyMySqlClient, tmp_path: Path) -> None:
    apply_sql_files(sql_client, static_sql_files())
    insert_customers(sql_client, generate_customers(60, seed=3))
    run = run_from_table(sql_client, tmp_path, queue=False)
    assert isinstance(run["error"], TableContentError)
    assert "churners among" in str(run["error"]) and "train on more customers" in str(run["error"])
