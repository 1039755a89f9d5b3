"""`churnguard train --sagemaker` end to end: stage the data, tune, train the reduced model, score,
write the model folder, remove the run's objects.

The same split, feature spec and search ranges as a local run; SageMaker runs the search (a tuning
job) and the reduced model's training, and, with `scoring="batch-transform"`, scores the validation
and test rows too. What differs from a local run is documented in docs/training.md ("Training on
SageMaker"). Objects under the run's prefixes are removed at the end whatever happened, except while
a job may still be reading them (the wait was interrupted or ran out): then `churnguard teardown`
finds them.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse

import numpy as np
import pandas as pd
import xgboost as xgb
from botocore.exceptions import BotoCoreError, ClientError

from churnguard.feature_spec import FeatureSpec
from training import explain
from training.cutoff import CostModel
from training.data import validate_customers
from training.features import build_feature_spec, feature_matrix, labels, subset_spec
from training.progress import Progress
from training.sagemaker_jobs import (
    TRAIN,
    VALIDATION,
    LaunchSettings,
    channel_files,
    csv_bytes,
    feature_spec_file,
    reduced_job_request,
    tuning_job_request,
)
from training.sagemaker_package import (
    RunFacts,
    ScoredModel,
    booster_from_job_output,
    model_tarball_bytes,
    write_sagemaker_model,
)
from training.sagemaker_staging import encryption, export_prefix, remove_prefix, upload
from training.sagemaker_transform import score_folder, score_with_batch_transform
from training.sagemaker_wait import (
    TRAINING_JOB,
    TUNING_JOB,
    JobFailed,
    JobStillRunning,
    tuning_detail,
    wait_for_job,
)
from training.split import Split, SplitRule, split_customers

SCORINGS = ("auto", "local", "batch-transform")
# Above this many customers "auto" scores with a batch transform job instead of on this machine.
LOCAL_SCORING_LIMIT = 1_000_000


@dataclass(frozen=True)
class RunOptions:
    split: SplitRule = "project"
    seed: int = 1729
    costs: CostModel = field(default_factory=CostModel)
    auc_margin: float = 0.005
    # "local": the validation and test rows are scored here; "batch-transform": by SageMaker;
    # "auto": batch transform above LOCAL_SCORING_LIMIT rows.
    scoring: str = "auto"
    data_source: str = "csv"
    # poll_s / max_wait_s / sleep / clock for training.sagemaker_wait.wait_for_job.
    wait: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Clients:
    sagemaker: Any
    s3: Any


def _read_s3_uri(s3: Any, uri: str) -> bytes:
    parsed = urlparse(uri)
    return bytes(s3.get_object(Bucket=parsed.netloc, Key=parsed.path.lstrip("/"))["Body"].read())


def _score_files(customers: pd.DataFrame, spec: FeatureSpec, parts: Split, reduced: bool) -> dict[str, bytes]:
    matrix = np.column_stack([labels(customers), feature_matrix(customers, spec)])
    folder = score_folder(reduced)
    return {
        f"{folder}/validation.csv": csv_bytes(matrix[parts.validation]),
        f"{folder}/test.csv": csv_bytes(matrix[parts.test]),
    }


def _training_files(
    customers: pd.DataFrame,
    spec: FeatureSpec,
    parts: Split,
    settings: LaunchSettings,
    *,
    reduced: bool,
    batch: bool,
) -> dict[str, bytes]:
    files = channel_files(
        customers, spec, {TRAIN: parts.train, VALIDATION: parts.validation}, shards=settings.instance_count
    )
    if reduced:
        files = {f"reduced-{name}": body for name, body in files.items()}
    else:
        files["feature_spec.json"] = feature_spec_file(spec)
    if batch:
        files.update(_score_files(customers, spec, parts, reduced))
    return files


class SageMakerTrainer:
    """One run: holds the clients, settings and options, and cleans up after itself."""

    def __init__(
        self, clients: Clients, settings: LaunchSettings, image: str, options: RunOptions, progress: Progress
    ) -> None:
        if options.scoring not in SCORINGS:
            raise ValueError(f"scoring must be one of {SCORINGS}")
        self.clients, self.settings, self.image, self.options, self.progress = (
            clients,
            settings,
            image,
            options,
            progress,
        )

    def run(self, load_customers: Callable[[], pd.DataFrame], out_dir: Any) -> dict[str, Any]:
        """Train on SageMaker and write the model folder; the metadata written."""
        try:
            metadata = self._run(load_customers, out_dir)
        except JobStillRunning:
            raise  # a job may still read the staged objects: teardown removes them later
        except BaseException:
            self._clean_up()
            raise
        self._clean_up()
        return metadata

    def _clean_up(self) -> None:
        """Remove the run's objects; a failure to do so is reported (stderr) without hiding the run's
        own outcome: the model folder is written, or the run's error is the one raised."""
        try:
            self.remove_objects()
        except (BotoCoreError, ClientError, RuntimeError) as error:
            where = f"s3://{self.settings.bucket}/{self.settings.run_prefix}"
            print(
                f"warning: could not remove the run's objects under {where} ({error}): "
                "`churnguard teardown` removes them",
                file=sys.stderr,
            )

    def remove_objects(self) -> int:
        """Everything the run put in S3: staging, job outputs and the table export."""
        s3, bucket = self.clients.s3, self.settings.bucket
        return remove_prefix(s3, bucket, self.settings.run_prefix) + remove_prefix(
            s3, bucket, export_prefix(self.settings)
        )

    def _run(self, load_customers: Callable[[], pd.DataFrame], out_dir: Any) -> dict[str, Any]:
        options, settings, sagemaker = self.options, self.settings, self.clients.sagemaker
        customers = validate_customers(load_customers()).reset_index(drop=True)
        parts = split_customers(customers, options.split, options.seed)
        batch = options.scoring == "batch-transform" or (
            options.scoring == "auto" and len(customers) > LOCAL_SCORING_LIMIT
        )
        full_spec = build_feature_spec(
            customers.iloc[np.sort(np.concatenate([parts.train, parts.validation]))]
        )
        upload(
            self.clients.s3,
            settings,
            _training_files(customers, full_spec, parts, settings, reduced=False, batch=batch),
        )

        sagemaker.create_hyper_parameter_tuning_job(**tuning_job_request(settings, self.image, options.seed))
        tuning = wait_for_job(
            sagemaker,
            TUNING_JOB,
            settings.tuning_job_name,
            self.progress,
            total=settings.max_jobs,
            detail=tuning_detail,
            **options.wait,
        )
        best = tuning.get("BestTrainingJob")
        if not best:
            raise JobFailed(
                f"tuning job {settings.tuning_job_name} completed without one successful training job: "
                "see each job's FailureReason with `aws sagemaker "
                "list-training-jobs-for-hyper-parameter-tuning-job --hyper-parameter-tuning-job-name "
                f"{settings.tuning_job_name}`"
            )
        full_url = sagemaker.describe_training_job(TrainingJobName=best["TrainingJobName"])["ModelArtifacts"][
            "S3ModelArtifacts"
        ]
        full_booster = booster_from_job_output(_read_s3_uri(self.clients.s3, full_url), full_spec)
        reduced_spec = subset_spec(full_spec, explain.used_features(full_booster) or set(full_spec.names))
        upload(
            self.clients.s3,
            settings,
            _training_files(customers, reduced_spec, parts, settings, reduced=True, batch=batch),
        )
        hyperparameters = dict(best["TunedHyperParameters"])
        sagemaker.create_training_job(
            **reduced_job_request(settings, self.image, options.seed, hyperparameters)
        )
        reduced_job = wait_for_job(
            sagemaker, TRAINING_JOB, settings.reduced_job_name, self.progress, **options.wait
        )
        reduced_url = reduced_job["ModelArtifacts"]["S3ModelArtifacts"]
        reduced_booster = booster_from_job_output(_read_s3_uri(self.clients.s3, reduced_url), reduced_spec)

        models = {}
        for name, spec, booster, job in (
            ("full", full_spec, full_booster, best["TrainingJobName"]),
            ("reduced", reduced_spec, reduced_booster, settings.reduced_job_name),
        ):
            scores = self._scores(customers, parts, spec, booster, reduced=name == "reduced", batch=batch)
            models[name] = ScoredModel(
                spec, booster, scores["validation"], scores["test"], hyperparameters, job
            )
        facts = RunFacts(
            split=options.split,
            seed=options.seed,
            auc_margin=options.auc_margin,
            costs=options.costs,
            tuning_job=settings.tuning_job_name,
            jobs=settings.max_jobs,
            instance_type=settings.instance_type,
            instance_count=settings.instance_count,
            data_source=options.data_source,
        )
        return write_sagemaker_model(customers, parts, models, facts, out_dir)

    def _scores(
        self,
        customers: pd.DataFrame,
        parts: Split,
        spec: FeatureSpec,
        booster: xgb.Booster,
        *,
        reduced: bool,
        batch: bool,
    ) -> dict[str, np.ndarray]:
        churn = labels(customers)
        if batch:
            # The transform scores the booster as shipped (trimmed), not the job's own artifact.
            key = f"{self.settings.run_prefix}scoring/{'reduced' if reduced else 'full'}/model.tar.gz"
            self.clients.s3.put_object(
                Bucket=self.settings.bucket,
                Key=key,
                Body=model_tarball_bytes(booster),
                **encryption(self.settings),
            )
            return score_with_batch_transform(
                self.clients.sagemaker,
                self.clients.s3,
                self.settings,
                self.image,
                f"s3://{self.settings.bucket}/{key}",
                {"validation": churn[parts.validation], "test": churn[parts.test]},
                self.progress,
                reduced=reduced,
                **self.options.wait,
            )
        return {
            part: booster.predict(
                xgb.DMatrix(feature_matrix(customers.iloc[rows], spec), feature_names=list(spec.names))
            )
            for part, rows in (("validation", parts.validation), ("test", parts.test))
        }
