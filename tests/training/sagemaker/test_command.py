"""`churnguard train --sagemaker --stage dev` through the CLI, and the folder installed in MariaDB.

The command reads the stack's outputs (a Stubber answers DescribeStacks), runs against the SageMaker
stand-in, prints the local run's summary, and the folder it writes installs like a locally trained
one: will_churn takes the model's features in order and agrees with xgboost.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import xgboost as xgb
from botocore.stub import Stubber
from moto import mock_aws

from churnguard import aws_clients
from churnguard.cli import main
from churnguard.customer_schema import COLUMN_NAMES
from churnguard.db import connect
from churnguard.local.install import install_churnguard
from churnguard.model_folder import ModelFolder
from churnguard.sqlgen import check_installed_signature, will_churn_call
from churnguard.sqlgen.files import apply_sql_files, static_sql_files
from churnguard.sqlgen.loading import load_customers as insert_customers
from tests.fixtures.mariadb import scratch_database
from tests.training.sagemaker.aurora_s3 import AuroraWithS3
from tests.training.sagemaker.sagemaker_service import (
    BUCKET,
    KEY,
    REGION,
    ROLE,
    RUN_NAME,
    StubbedSageMaker,
    settings,
)
from tests.training.sagemaker.test_staging import BASE_OUTPUTS, _stack
from training.sagemaker import jobs as sagemaker_jobs
from training.sagemaker.table_rows import SOURCE as TABLE_SOURCE
from training.synthetic import generate_customers, generate_messages


def run_command(service: StubbedSageMaker, arguments: list[str], database: Any = None) -> int:
    """`churnguard train --sagemaker --stage dev ARGUMENTS` with the stack's outputs stubbed, the
    SageMaker stand-in, and `database` in place of the Data API client; every stubbed answer used."""
    monkeypatch = pytest.MonkeyPatch()
    cloudformation = aws_clients.aws_client("cloudformation", region_name=REGION)
    stubber = Stubber(cloudformation)
    outputs = {**BASE_OUTPUTS, "TrainingRoleArn": ROLE, "TrainingKeyArn": KEY}
    for _ in range(2):
        stubber.add_response("describe_stacks", _stack(outputs), {"StackName": "churnguard-dev"})
    stubber.activate()
    clients = {
        "cloudformation": cloudformation,
        "sagemaker": service.sagemaker,
        "s3": service.s3,
        "rds-data": None,
    }
    monkeypatch.setattr(aws_clients, "aws_client", lambda name, **_: clients[name])
    monkeypatch.setattr("churnguard.dataapi.DataApiClient", lambda *_, **__: database)
    monkeypatch.setattr(sagemaker_jobs, "default_run_name", lambda: RUN_NAME)
    monkeypatch.setattr("training.sagemaker.wait.DEFAULT_POLL_S", 0.0)
    monkeypatch.setattr("time.sleep", lambda _: None)
    try:
        common = ["--stage", "dev", "--region", REGION, "--seed", "5", "--max-wait-minutes", "5"]
        code = main(["train", "--sagemaker", *common, *arguments])
    finally:
        monkeypatch.undo()
    service.stubber.assert_no_pending_responses()
    stubber.assert_no_pending_responses()
    return code


@pytest.fixture(scope="module")
def command_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("command")
    data, out = folder / "customers.csv", folder / "model"
    generate_customers(1500, seed=5).to_csv(data, index=False)
    with mock_aws():
        service = StubbedSageMaker(settings(kms_key_id=KEY))
        service.queue_successful_run()
        code = run_command(service, ["--data", str(data), "--out", str(out)])
        left = service.objects()
    return {"code": code, "out": out, "service": service, "left": left}


def test_the_stage_outputs_drive_the_jobs(
    command_run: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    assert command_run["code"] == 0
    (tuning,) = command_run["service"].requests["CreateHyperParameterTuningJob"]
    definition = tuning["TrainingJobDefinition"]
    assert definition["RoleArn"] == ROLE
    assert definition["OutputDataConfig"] == {
        "S3OutputPath": f"s3://{BUCKET}/model/{RUN_NAME}/output/",
        "KmsKeyId": KEY,
    }
    assert command_run["left"] == []
    assert (command_run["out"] / "metadata.json").exists()


@pytest.mark.mariadb
def test_the_folder_installs_and_scores_like_a_local_one(
    command_run: dict[str, Any], sql_client: Any
) -> None:
    out: Path = command_run["out"]
    customers = generate_customers(300, seed=9)
    install_churnguard(
        sql_client, model_dir=out, customers=customers, messages=generate_messages(customers, seed=9)
    )
    spec = ModelFolder.read(out).feature_spec
    check_installed_signature(sql_client, spec)
    columns = ", ".join(f"c.{name}" for name in COLUMN_NAMES)
    rows = sql_client.query(
        f"SELECT {columns}, {will_churn_call(spec, 'c')} AS score FROM customers c ORDER BY area_code, phone"
    )
    booster = xgb.Booster(model_file=str(out / "model.json"))
    expected = booster.predict(
        xgb.DMatrix(
            np.array([spec.values_for(row) for row in rows], dtype=np.float64), feature_names=spec.names
        )
    )
    assert np.max(np.abs(np.array([row["score"] for row in rows]) - expected)) <= 1e-6
    assert np.ptp(expected) > 0.1


@pytest.mark.mariadb
def test_from_table_trains_on_the_deployed_table(
    mariadb_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with scratch_database(mariadb_url, "command_table") as url, mock_aws():
        database = connect(url)
        apply_sql_files(database, static_sql_files())
        insert_customers(database, generate_customers(1500, seed=5))
        service = StubbedSageMaker(settings(kms_key_id=KEY, data_from_table=True))
        service.queue_successful_run(batch_transform=True, train_scores=True)
        (tmp_path / "server").mkdir()
        aurora = AuroraWithS3(database, service.s3, tmp_path / "server")
        code = run_command(service, ["--from-table", "--out", str(tmp_path / "model")], aurora)
        left = service.objects()
        database.close()
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert f"staging under s3://{BUCKET}/tmp/training/{RUN_NAME}/staging/" in captured.err
    assert "test AUC full" in captured.out and "written to" in captured.out
    metadata = json.loads((tmp_path / "model" / "metadata.json").read_text())
    assert metadata["data"]["source"] == TABLE_SOURCE and metadata["data"]["rows"] == 1500
    assert left == []


class RefusingDatabase:
    """A Data API client that must not be used: the command refuses its options first."""

    def execute(self, sql: str, params: Any = None) -> int:
        raise AssertionError("a statement ran although the options were refused")


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--split", "reference"], "--from-table splits the table in Aurora by the project rule"),
        (["--scoring", "local"], "--scoring local needs the rows on this machine"),
    ],
)
def test_from_table_refuses_what_needs_the_rows_here(
    options: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with mock_aws():
        service = StubbedSageMaker(settings(kms_key_id=KEY, data_from_table=True))
        code = run_command(
            service, ["--from-table", "--out", str(tmp_path / "m"), *options], RefusingDatabase()
        )
    assert code == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "m").exists()
