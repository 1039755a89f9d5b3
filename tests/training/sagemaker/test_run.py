"""`churnguard train --sagemaker` end to end against a SageMaker stand-in (sagemaker_service.py).

The jobs' models are real xgboost models trained from the CSVs the launcher staged, so the model
folder that comes out can be put through the same checks as a locally trained one.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import xgboost as xgb
from moto import mock_aws

from churnguard.errors import UserError
from churnguard.model_folder import ModelFolder
from tests.training.model_folder_checks import FOLDER_CHECKS
from tests.training.sagemaker.sagemaker_service import (
    IMAGE,
    KEY,
    StubbedSageMaker,
    best_job_name,
    settings,
    training_description,
    tuning_description,
)
from training.artifacts import load_model_tarball
from training.cutoff import CostModel, smoothed_optimal_cutoff
from training.features import labels
from training.sagemaker.data import RowsHere
from training.sagemaker.run import Clients, RunOptions, SageMakerTrainer
from training.sagemaker.wait import JobFailed, JobStillRunning
from training.split import split_customers
from training.synthetic import generate_customers

SEED = 5
ROWS = 1500


class RecordingProgress:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def begin(self, step: str, total: int | None = None) -> None:
        self.lines.append(f"begin {step} ({total})")

    def advance(self, done: int, detail: str = "") -> None:
        self.lines.append(f"advance {done} {detail}")

    def end(self, detail: str = "") -> None:
        self.lines.append(f"end {detail}")


def trainer(service: StubbedSageMaker, progress: RecordingProgress, **options: Any) -> SageMakerTrainer:
    return SageMakerTrainer(
        Clients(service.sagemaker, service.s3),
        service.launch,
        IMAGE,
        RunOptions(
            seed=SEED, wait={"poll_s": 0.0, "sleep": lambda _: None, **options.pop("wait", {})}, **options
        ),
        progress,
    )


def customers() -> Any:
    return generate_customers(ROWS, seed=SEED)


def rows_here(service: StubbedSageMaker) -> RowsHere:
    return RowsHere(customers, service.s3, service.launch, split="project", seed=SEED)


@pytest.fixture(scope="module")
def finished(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    out = tmp_path_factory.mktemp("sagemaker") / "model"
    with mock_aws():
        service = StubbedSageMaker(settings())
        service.queue_successful_run()
        progress = RecordingProgress()
        metadata = trainer(service, progress).run(rows_here(service), out)
        service.stubber.assert_no_pending_responses()
        objects = service.objects()
    yield {"out": out, "metadata": metadata, "service": service, "progress": progress, "objects": objects}


@pytest.mark.parametrize("check", FOLDER_CHECKS, ids=lambda check: check.__name__)
def test_the_folder_passes_the_model_folder_checks(
    finished: dict[str, Any], check: Any, tmp_path: Path
) -> None:
    check(finished["out"], finished["metadata"], tmp_path)


def test_the_cutoff_is_chosen_on_the_validation_rows(finished: dict[str, Any]) -> None:
    metadata, out = finished["metadata"], finished["out"]
    table = customers()
    parts = split_customers(table, "project", SEED)
    spec = ModelFolder.read(out).feature_spec
    booster = load_model_tarball(out / "model.tar.gz")
    matrix = np.array([spec.values_for(row) for row in table.iloc[parts.validation].to_dict("records")])
    scores = booster.predict(xgb.DMatrix(matrix, feature_names=spec.names))
    cutoff, _ = smoothed_optimal_cutoff(labels(table)[parts.validation], scores, CostModel())
    assert metadata["cutoff"] == cutoff
    assert metadata["cost"]["cutoff_chosen_on"] == "validation"
    assert metadata["cost"]["test_rows"] == len(parts.test)
    assert json.loads((out / "metadata.json").read_text()) == metadata


def test_metadata_names_the_jobs_and_the_reduced_model(finished: dict[str, Any]) -> None:
    metadata, service = finished["metadata"], finished["service"]
    launch = service.launch
    assert metadata["search"]["tuning_job"] == launch.tuning_job_name
    assert metadata["metrics"]["full"]["job"] == best_job_name(launch)
    assert metadata["metrics"]["reduced"]["job"] == launch.reduced_job_name
    assert metadata["metrics"]["reduced"]["features"] < metadata["metrics"]["full"]["features"]
    assert metadata["hyperparameters"]["eta"] == 0.3 and metadata["hyperparameters"]["max_depth"] == 3
    assert metadata["trained_on"] == {
        "service": "sagemaker",
        "instance_type": "ml.m5.xlarge",
        "instance_count": 1,
    }
    # The reduced job trained on exactly the features the best job's model split on, in spec order.
    (reduced,) = service.requests["CreateTrainingJob"]
    assert reduced["HyperParameters"]["eta"] == "0.3"
    assert all(
        "/staging/reduced-" in c["DataSource"]["S3DataSource"]["S3Uri"] for c in reduced["InputDataConfig"]
    )


def test_progress_shows_status_jobs_done_and_best_objective(finished: dict[str, Any]) -> None:
    lines = finished["progress"].lines
    assert "begin waiting for tuning job churnguard-261126-120000-hpo (20)" in lines
    assert "advance 0 InProgress, no job finished yet" in lines
    assert "advance 3 InProgress, best validation AUC 0.9125" in lines
    assert "advance 20 Completed, best validation AUC 0.9125" in lines
    assert "advance 0 InProgress (Training)" in lines


def test_every_staged_object_is_removed_and_uploads_were_encrypted(finished: dict[str, Any]) -> None:
    service = finished["service"]
    assert finished["objects"] == []
    (tuning,) = service.requests["CreateHyperParameterTuningJob"]
    ranges = tuning["HyperParameterTuningJobConfig"]["ParameterRanges"]["ContinuousParameterRanges"]
    assert {r["Name"]: r["MinValue"] for r in ranges}["eta"] == "0.01"
    assert tuning["TrainingJobDefinition"]["OutputDataConfig"]["KmsKeyId"] == KEY


def test_batch_transform_scores_give_the_same_folder(finished: dict[str, Any], tmp_path: Path) -> None:
    with mock_aws():
        service = StubbedSageMaker(settings())
        service.queue_successful_run(batch_transform=True)
        metadata = trainer(service, RecordingProgress(), scoring="batch-transform").run(
            rows_here(service), tmp_path / "m"
        )
        service.stubber.assert_no_pending_responses()
        transforms = service.requests["CreateTransformJob"]
        assert service.objects() == []
    assert [job["DataProcessing"] for job in transforms] == [
        {"InputFilter": "$[1:]", "JoinSource": "Input", "OutputFilter": "$[0,-1]"}
    ] * 2
    assert metadata == finished["metadata"]
    assert (tmp_path / "m" / "model.tar.gz").read_bytes() == (finished["out"] / "model.tar.gz").read_bytes()


def _failing_run(
    tmp_path: Path, queue: Any, **wait: Any
) -> tuple[StubbedSageMaker, Path, pytest.ExceptionInfo]:
    out = tmp_path / "model"
    out.mkdir()
    (out / "metadata.json").write_text('{"previous": true}')
    service = StubbedSageMaker(settings())
    queue(service)
    progress = RecordingProgress()
    run = SageMakerTrainer(
        Clients(service.sagemaker, service.s3),
        service.launch,
        IMAGE,
        RunOptions(seed=SEED, wait={"poll_s": 0.0, "sleep": lambda _: None, **wait}),
        progress,
    )
    with pytest.raises(UserError) as raised:
        run.run(rows_here(service), out)
    return service, out, raised


def _create_tuning(service: StubbedSageMaker) -> None:
    service.respond("create_hyper_parameter_tuning_job", {"HyperParameterTuningJobArn": "arn:aws:x"})


def test_a_failed_tuning_job_names_the_job_and_its_reason(tmp_path: Path) -> None:
    reason = "ClientError: Unable to download data from the validation channel: AccessDenied"

    def queue(service: StubbedSageMaker) -> None:
        _create_tuning(service)
        service.respond(
            "describe_hyper_parameter_tuning_job",
            tuning_description(service.launch, "Failed", completed=0, best=False, failure=reason),
        )

    with mock_aws():
        service, out, raised = _failing_run(tmp_path, queue)
        assert service.objects() == []
    assert raised.type is JobFailed
    assert str(raised.value) == f"tuning job {service.launch.tuning_job_name} failed: {reason}"
    assert json.loads((out / "metadata.json").read_text()) == {"previous": True}
    assert sorted(path.name for path in tmp_path.iterdir()) == ["model"]


def test_a_stopped_reduced_job_leaves_no_model_folder(tmp_path: Path) -> None:
    def queue(service: StubbedSageMaker) -> None:
        launch = service.launch
        service.queue_successful_run()
        # Replace the reduced job's answers: it is stopped by someone while it trains.
        service.stubber._queue.pop()  # type: ignore[attr-defined]
        service.stubber._queue.pop()  # type: ignore[attr-defined]
        service.respond(
            "describe_training_job",
            training_description(launch, launch.reduced_job_name, "Stopped", failure="Stopped by a user"),
        )

    with mock_aws():
        service, out, raised = _failing_run(tmp_path, queue)
        assert service.objects() == []
    assert raised.type is JobFailed
    assert str(raised.value) == f"training job {service.launch.reduced_job_name} stopped: Stopped by a user"
    assert json.loads((out / "metadata.json").read_text()) == {"previous": True}


def test_a_tuning_job_without_a_best_job_is_a_failure(tmp_path: Path) -> None:
    def queue(service: StubbedSageMaker) -> None:
        _create_tuning(service)
        service.respond(
            "describe_hyper_parameter_tuning_job",
            tuning_description(service.launch, "Completed", completed=0, best=False),
        )

    with mock_aws():
        _, _, raised = _failing_run(tmp_path, queue)
    assert "completed without one successful training job" in str(raised.value)


def _interrupt(_: float) -> None:
    raise KeyboardInterrupt


def test_ctrl_c_says_how_to_stop_the_job_and_keeps_its_inputs(tmp_path: Path) -> None:
    def queue(service: StubbedSageMaker) -> None:
        _create_tuning(service)
        service.respond(
            "describe_hyper_parameter_tuning_job",
            tuning_description(service.launch, "InProgress", completed=1, best=False),
        )

    with mock_aws():
        service, _, raised = _failing_run(tmp_path, queue, sleep=_interrupt)
        staged = service.objects()
    name = service.launch.tuning_job_name
    assert raised.type is JobStillRunning
    assert f"`aws sagemaker stop-hyper-parameter-tuning-job --hyper-parameter-tuning-job-name {name}`" in str(
        raised.value
    )
    assert "churnguard teardown" in str(raised.value)
    # The job still reads its channels: they stay until it ends (teardown finds them).
    assert any("/staging/train/" in key for key in staged)


def test_waiting_is_bounded(tmp_path: Path) -> None:
    def queue(service: StubbedSageMaker) -> None:
        _create_tuning(service)
        service.respond(
            "describe_hyper_parameter_tuning_job",
            tuning_description(service.launch, "InProgress", completed=1, best=False),
        )

    clock = iter([0.0, 3601.0])
    with mock_aws():
        _, _, raised = _failing_run(
            tmp_path, queue, max_wait_s=3600.0, poll_s=60.0, clock=lambda: next(clock)
        )
    assert raised.type is JobStillRunning
    assert "still InProgress after 60 minutes" in str(raised.value)


def test_staged_csvs_are_what_the_channels_read(tmp_path: Path) -> None:
    """The train channel holds the 70% part, label first; feature_spec.json names the columns."""
    with mock_aws():
        service = StubbedSageMaker(settings())
        _create_tuning(service)
        service.respond(
            "describe_hyper_parameter_tuning_job",
            tuning_description(service.launch, "InProgress", completed=0, best=False),
        )
        with pytest.raises(JobStillRunning):
            trainer(service, RecordingProgress(), wait={"sleep": _interrupt}).run(
                rows_here(service), tmp_path / "m"
            )
        prefix = service.launch.staging_prefix
        body = service.s3.get_object(Bucket=service.launch.bucket, Key=f"{prefix}train/part-00000.csv")
        rows = np.loadtxt(io.StringIO(body["Body"].read().decode()), delimiter=",")
        spec = json.loads(
            service.s3.get_object(Bucket=service.launch.bucket, Key=f"{prefix}feature_spec.json")[
                "Body"
            ].read()
        )
        head = service.s3.head_object(Bucket=service.launch.bucket, Key=f"{prefix}train/part-00000.csv")
    parts = split_customers(customers(), "project", SEED)
    assert rows.shape == (len(parts.train), 1 + len(spec["features"]))
    assert np.array_equal(rows[:, 0], labels(customers())[parts.train])
    assert head["ServerSideEncryption"] == "aws:kms" and head["SSEKMSKeyId"] == KEY


def test_describe_calls_failing_in_a_row_end_the_wait_with_the_stop_command(tmp_path: Path) -> None:
    def queue(service: StubbedSageMaker) -> None:
        _create_tuning(service)
        service.respond(
            "describe_hyper_parameter_tuning_job",
            tuning_description(service.launch, "InProgress", completed=1, best=False),
        )
        for _ in range(5):
            service.fail("describe_hyper_parameter_tuning_job", "ThrottlingException", "Rate exceeded")

    with mock_aws():
        service, _, raised = _failing_run(tmp_path, queue)
        staged = service.objects()
    name = service.launch.tuning_job_name
    assert raised.type is JobStillRunning
    assert f"could not ask SageMaker about tuning job {name} 5 times in a row" in str(raised.value)
    assert "Rate exceeded" in str(raised.value) and "stop-hyper-parameter-tuning-job" in str(raised.value)
    assert staged  # the job may still read them


def test_a_failed_clean_up_does_not_hide_the_jobs_failure(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def queue(service: StubbedSageMaker) -> None:
        _create_tuning(service)
        service.respond(
            "describe_hyper_parameter_tuning_job",
            tuning_description(
                service.launch, "Failed", completed=0, best=False, failure="InternalServerError"
            ),
        )

    def refuse(*_: Any, **__: Any) -> int:
        raise RuntimeError("could not remove s3://bucket/key: AccessDenied")

    monkeypatch.setattr("training.sagemaker.run.remove_prefix", refuse)
    with mock_aws():
        service, _, raised = _failing_run(tmp_path, queue)
    assert raised.type is JobFailed and "InternalServerError" in str(raised.value)
    warning = capsys.readouterr().err
    assert f"could not remove the run's objects under s3://{service.launch.bucket}/model/" in warning
    assert "`churnguard teardown` removes them" in warning
