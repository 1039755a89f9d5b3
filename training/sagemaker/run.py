"""`churnguard train --sagemaker` end to end: stage the data, tune, train the reduced model, score,
write the model folder, remove the run's objects.

The same split rule, feature spec and search ranges as a local run; SageMaker runs the search (a
tuning job) and the reduced model's training, and, with batch-transform scoring, scores the
validation and test rows too. The rows are either here (training.sagemaker.data.RowsHere: a CSV or
synthetic customers, uploaded) or stay in Aurora (training.sagemaker.table_rows.TableRows: Aurora writes the
channels, and only aggregates and each scored row's label and score come back). What differs from a
local run is documented in docs/training.md ("Training on SageMaker"). Objects under the run's
prefixes are removed at the end whatever happened, except while a job may still be reading them (the
wait was interrupted or ran out): then `churnguard teardown` finds them.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse

import numpy as np
import xgboost as xgb
from botocore.exceptions import BotoCoreError, ClientError

from churnguard.errors import UserError
from churnguard.feature_spec import FeatureSpec
from training import explain
from training.cutoff import CostModel
from training.features import subset_spec
from training.progress import Progress
from training.sagemaker.data import RunData
from training.sagemaker.jobs import (
    TRAIN,
    LaunchSettings,
    feature_spec_file,
    reduced_job_request,
    tuning_job_request,
)
from training.sagemaker.package import (
    RunFacts,
    ScoredModel,
    booster_from_job_output,
    model_tarball_bytes,
    write_sagemaker_model,
)
from training.sagemaker.staging import encryption, remove_prefix, upload
from training.sagemaker.transform import (
    SCORED_PARTS,
    LabelledScores,
    score_folder,
    score_with_batch_transform,
)
from training.sagemaker.wait import (
    TRAINING_JOB,
    TUNING_JOB,
    JobFailed,
    JobStillRunning,
    tuning_detail,
    wait_for_job,
)

SCORINGS = ("auto", "local", "batch-transform")
# Above this many customers "auto" scores with a batch transform job instead of on this machine.
LOCAL_SCORING_LIMIT = 1_000_000


@dataclass(frozen=True)
class RunOptions:
    seed: int = 1729
    costs: CostModel = field(default_factory=CostModel)
    auc_margin: float = 0.005
    # "local": the validation and test rows are scored here; "batch-transform": by SageMaker;
    # "auto": batch transform above LOCAL_SCORING_LIMIT rows, or when the rows are not here.
    scoring: str = "auto"
    data_source: str = "csv"
    # poll_s / max_wait_s / sleep / clock for training.sagemaker.wait.wait_for_job.
    wait: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Clients:
    sagemaker: Any
    s3: Any


def _read_s3_uri(s3: Any, uri: str) -> bytes:
    parsed = urlparse(uri)
    return bytes(s3.get_object(Bucket=parsed.netloc, Key=parsed.path.lstrip("/"))["Body"].read())


def _which(reduced: bool) -> str:
    return "reduced" if reduced else "full"


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
        self._model_urls: dict[bool, str] = {}

    def run(self, data: RunData, out_dir: Any) -> dict[str, Any]:
        """Train on SageMaker and write the model folder; the metadata written."""
        try:
            metadata = self._run(data, out_dir)
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
        """Everything the run put in S3: staging and job outputs, and what Aurora wrote for it."""
        s3, bucket = self.clients.s3, self.settings.bucket
        return remove_prefix(s3, bucket, self.settings.run_prefix) + remove_prefix(
            s3, bucket, self.settings.table_prefix
        )

    def _run(self, data: RunData, out_dir: Any) -> dict[str, Any]:
        options, settings, sagemaker = self.options, self.settings, self.clients.sagemaker
        if not data.scores_here_possible and options.scoring == "local":
            raise UserError(
                "--scoring local needs the rows on this machine; with --from-table they stay in Aurora "
                "and a batch transform job scores them (--scoring auto or batch-transform)"
            )
        full_spec = data.prepare()
        batch = not data.scores_here_possible or (
            options.scoring == "batch-transform"
            or (options.scoring == "auto" and data.rows() > LOCAL_SCORING_LIMIT)
        )
        data.stage(full_spec, reduced=False, batch=batch)
        upload(self.clients.s3, settings, {"feature_spec.json": feature_spec_file(full_spec)})

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
        data.stage(reduced_spec, reduced=True, batch=batch)
        hyperparameters = dict(best["TunedHyperParameters"])
        sagemaker.create_training_job(
            **reduced_job_request(settings, self.image, options.seed, hyperparameters)
        )
        reduced_job = wait_for_job(
            sagemaker, TRAINING_JOB, settings.reduced_job_name, self.progress, **options.wait
        )
        reduced_url = reduced_job["ModelArtifacts"]["S3ModelArtifacts"]
        reduced_booster = booster_from_job_output(_read_s3_uri(self.clients.s3, reduced_url), reduced_spec)

        models, scored = {}, {}
        for name, spec, booster, job in (
            ("full", full_spec, full_booster, best["TrainingJobName"]),
            ("reduced", reduced_spec, reduced_booster, settings.reduced_job_name),
        ):
            scored[name] = self._scores(data, spec, booster, reduced=name == "reduced", batch=batch)
            models[name] = ScoredModel(
                spec,
                booster,
                scored[name]["validation"].scores,
                scored[name]["test"].scores,
                hyperparameters,
                job,
            )
        for part in SCORED_PARTS:
            if not np.array_equal(scored["full"][part].churn, scored["reduced"][part].churn):
                raise ValueError(f"the full and the reduced model's {part} scores are not for the same rows")
        facts = RunFacts(
            seed=options.seed,
            auc_margin=options.auc_margin,
            costs=options.costs,
            tuning_job=settings.tuning_job_name,
            jobs=settings.max_jobs,
            instance_type=settings.instance_type,
            instance_count=settings.instance_count,
            data_source=options.data_source,
        )
        held_out = data.held_out(scored["full"]["validation"].churn, scored["full"]["test"].churn)

        def reference(name: str, chosen: ScoredModel) -> dict[str, Any]:
            return data.reference(
                name, chosen, lambda: self._train_scores(data, chosen, reduced=name == "reduced")
            )

        return write_sagemaker_model(held_out, models, facts, out_dir, reference)

    def _model_url(self, booster: xgb.Booster, *, reduced: bool) -> str:
        """The booster as shipped (trimmed), uploaded once for the transform jobs that score with it."""
        if reduced not in self._model_urls:
            key = f"{self.settings.run_prefix}scoring/{_which(reduced)}/model.tar.gz"
            self.clients.s3.put_object(
                Bucket=self.settings.bucket,
                Key=key,
                Body=model_tarball_bytes(booster),
                **encryption(self.settings),
            )
            self._model_urls[reduced] = f"s3://{self.settings.bucket}/{key}"
        return self._model_urls[reduced]

    def _transform(
        self, booster: xgb.Booster, *, reduced: bool, name: str, input_uri: str, parts: tuple[str, ...]
    ) -> dict[str, LabelledScores]:
        return score_with_batch_transform(
            self.clients.sagemaker,
            self.clients.s3,
            self.settings,
            self.image,
            self._model_url(booster, reduced=reduced),
            self.progress,
            name=name,
            input_uri=input_uri,
            parts=parts,
            **self.options.wait,
        )

    def _scores(
        self, data: RunData, spec: FeatureSpec, booster: xgb.Booster, *, reduced: bool, batch: bool
    ) -> dict[str, LabelledScores]:
        if not batch:
            here = data.scores_here(booster, spec)
            assert here is not None  # _batch chose batch scoring for rows that are not here
            return here
        settings = self.settings
        scored = self._transform(
            booster,
            reduced=reduced,
            name=f"{settings.run_name}-{_which(reduced)}-score",
            input_uri=f"s3://{settings.bucket}/{settings.channel_prefix}{score_folder(reduced)}/",
            parts=SCORED_PARTS,
        )
        for part, result in scored.items():
            data.check_labels(part, result.churn, f"{_which(reduced)} model's {part} scores")
        return scored

    def _train_scores(self, data: RunData, model: ScoredModel, *, reduced: bool) -> np.ndarray:
        """The model's scores of the rows it trained on, from a batch transform job over its train channel."""
        scored = self._transform(
            model.booster,
            reduced=reduced,
            name=f"{self.settings.run_name}-train-score",
            input_uri=self.settings.channel_uri(TRAIN, reduced=reduced),
            parts=("",),
        )[""]
        data.check_labels(TRAIN, scored.churn, f"{_which(reduced)} model's train scores")
        return scored.scores
