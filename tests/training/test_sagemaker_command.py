"""`churnguard train --sagemaker --stage dev` through the CLI, and the folder installed in MariaDB.

The command reads the stack's outputs (a Stubber answers DescribeStacks), runs against the SageMaker
stand-in, prints the local run's summary, and the folder it writes installs like a locally trained
one: will_churn takes the model's features in order and agrees with xgboost.
"""

from __future__ import annotations

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
from churnguard.feature_spec import FeatureSpec
from churnguard.localdb import install_churnguard
from churnguard.sqlgen import check_installed_signature, will_churn_call
from tests.training.sagemaker_service import BUCKET, KEY, REGION, ROLE, RUN_NAME, StubbedSageMaker, settings
from tests.training.test_sagemaker_staging import BASE_OUTPUTS, _stack
from training import sagemaker_jobs
from training.synthetic import generate_customers, generate_messages


@pytest.fixture(scope="module")
def command_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("command")
    data, out = folder / "customers.csv", folder / "model"
    generate_customers(1500, seed=5).to_csv(data, index=False)
    monkeypatch = pytest.MonkeyPatch()
    with mock_aws():
        service = StubbedSageMaker(settings(kms_key_id=KEY))
        service.queue_successful_run()
        cloudformation = aws_clients.aws_client("cloudformation", region_name=REGION)
        stubber = Stubber(cloudformation)
        outputs = {**BASE_OUTPUTS, "TrainingRoleArn": ROLE, "TrainingKeyArn": KEY}
        for _ in range(2):
            stubber.add_response("describe_stacks", _stack(outputs), {"StackName": "churnguard-dev"})
        stubber.activate()
        clients = {"cloudformation": cloudformation, "sagemaker": service.sagemaker, "s3": service.s3}
        monkeypatch.setattr(aws_clients, "aws_client", lambda name, **_: clients[name])
        monkeypatch.setattr(sagemaker_jobs, "default_run_name", lambda: RUN_NAME)
        monkeypatch.setattr("training.sagemaker_wait.DEFAULT_POLL_S", 0.0)
        monkeypatch.setattr("time.sleep", lambda _: None)
        try:
            arguments = ["--stage", "dev", "--region", REGION, "--data", str(data), "--out", str(out)]
            code = main(["train", "--sagemaker", *arguments, "--seed", "5", "--max-wait-minutes", "5"])
        finally:
            monkeypatch.undo()
        service.stubber.assert_no_pending_responses()
        stubber.assert_no_pending_responses()
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
    spec = FeatureSpec.from_metadata_file(out / "metadata.json")
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
