"""Waiting for SageMaker jobs: bounded, visible, and clear about failure and about Ctrl-C.

Each poll is one Describe call through a bounded boto3 client; the whole wait is bounded by
`max_wait_s`. While waiting, the progress line shows the job's status and, for a tuning job, the
training jobs done and the best objective so far. A job that ends Failed or Stopped raises a
UserError naming it and SageMaker's FailureReason; Ctrl-C (or the wait running out) raises one that
says the job is still running, what it costs to leave it, and the command that stops it.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TextIO

from botocore.exceptions import BotoCoreError, ClientError

from churnguard.errors import UserError
from training.progress import Progress, StreamProgress

DEFAULT_POLL_S = 30.0
# A tuning job of 20 one-to-three-minute jobs, two at a time, ends well within this.
DEFAULT_MAX_WAIT_S = 4 * 3600.0
FAILED_STATES = ("Failed", "Stopped")
# Describe calls that may fail in a row (network, throttling past botocore's retries) before giving up.
MAX_FAILED_POLLS = 5


class JobFailed(UserError):
    """A SageMaker job ended Failed or Stopped; the message names it and gives its failure reason."""


class JobStillRunning(UserError):
    """The wait ended (Ctrl-C or its time limit) while the job runs on; the message says how to stop it."""


@dataclass(frozen=True)
class JobKind:
    """How to describe, read and stop one kind of SageMaker job."""

    label: str
    describe: str
    name_parameter: str
    status_key: str
    stop_command: str

    def stop_hint(self, name: str) -> str:
        return f"aws sagemaker {self.stop_command} --{_cli_option(self.name_parameter)} {name}"


def _cli_option(parameter: str) -> str:
    return "".join(f"-{char.lower()}" if char.isupper() else char for char in parameter).lstrip("-")


TUNING_JOB = JobKind(
    "tuning job",
    "describe_hyper_parameter_tuning_job",
    "HyperParameterTuningJobName",
    "HyperParameterTuningJobStatus",
    "stop-hyper-parameter-tuning-job",
)
TRAINING_JOB = JobKind(
    "training job", "describe_training_job", "TrainingJobName", "TrainingJobStatus", "stop-training-job"
)
TRANSFORM_JOB = JobKind(
    "batch transform job",
    "describe_transform_job",
    "TransformJobName",
    "TransformJobStatus",
    "stop-transform-job",
)


def tuning_detail(description: dict[str, Any]) -> tuple[int, str]:
    """Training jobs done, and the status with the best objective so far, for the progress line."""
    counters = description.get("TrainingJobStatusCounters", {})
    done = sum(int(counters.get(key, 0)) for key in ("Completed", "NonRetryableError", "Stopped"))
    best = description.get("BestTrainingJob", {}).get("FinalHyperParameterTuningJobObjectiveMetric")
    best_text = f"best validation AUC {float(best['Value']):.4f}" if best else "no job finished yet"
    return done, f"{description[TUNING_JOB.status_key]}, {best_text}"


def status_detail(kind: JobKind) -> Callable[[dict[str, Any]], tuple[int, str]]:
    def detail(description: dict[str, Any]) -> tuple[int, str]:
        secondary = description.get("SecondaryStatus")
        status = description[kind.status_key]
        return 0, f"{status} ({secondary})" if secondary else status

    return detail


def wait_for_job(
    sagemaker: Any,
    kind: JobKind,
    name: str,
    progress: Progress,
    *,
    total: int | None = None,
    detail: Callable[[dict[str, Any]], tuple[int, str]] | None = None,
    poll_s: float = DEFAULT_POLL_S,
    max_wait_s: float = DEFAULT_MAX_WAIT_S,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> dict[str, Any]:
    """Poll until the job completes; its last description. Raises JobFailed or a UserError (see module)."""
    describe = getattr(sagemaker, kind.describe)
    detail = detail or status_detail(kind)
    started = clock()
    failures = 0
    progress.begin(f"waiting for {kind.label} {name}", total)
    try:
        while True:
            try:
                description = describe(**{kind.name_parameter: name})
            except (BotoCoreError, ClientError) as error:
                # The job runs on whatever happens to this connection: give up after a few polls, saying so.
                failures += 1
                if failures >= MAX_FAILED_POLLS:
                    raise JobStillRunning(
                        f"could not ask SageMaker about {kind.label} {name} {failures} times in a row "
                        f"({error}); it may still be running (and billing): check or stop it with "
                        f"`{kind.stop_hint(name)}`"
                    ) from None
                sleep(poll_s)
                continue
            failures = 0
            done, text = detail(description)
            progress.advance(done, text)
            status = description[kind.status_key]
            if status == "Completed":
                progress.end(text)
                return description
            if status in FAILED_STATES:
                progress.end(text)
                reason = description.get("FailureReason") or "SageMaker gave no failure reason"
                raise JobFailed(f"{kind.label} {name} {status.lower()}: {reason}")
            if clock() - started + poll_s > max_wait_s:
                raise JobStillRunning(
                    f"{kind.label} {name} is still {status} after {max_wait_s / 60:.0f} minutes of waiting; "
                    f"it keeps running (and billing): stop it with `{kind.stop_hint(name)}`, or wait longer "
                    "with --max-wait-minutes"
                )
            sleep(poll_s)
    except KeyboardInterrupt:
        raise JobStillRunning(
            f"stopped waiting, but {kind.label} {name} is still running (and billing): stop it with "
            f"`{kind.stop_hint(name)}`, or `churnguard teardown` removes every leftover"
        ) from None


class JobProgress:
    """StreamProgress for waits of minutes to hours: on a terminal its redrawn counter; in a log file or CI,
    where StreamProgress prints only a step's end, one line each time the job's state changes."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream if stream is not None else sys.stderr
        self._inner = StreamProgress(self._stream)
        self._interactive = self._stream.isatty()
        self._total: int | None = None
        self._last: tuple[int, str] | None = None

    def begin(self, step: str, total: int | None = None) -> None:
        self._total, self._last = total, None
        self._inner.begin(step, total)
        if not self._interactive:
            self._stream.write(f"{step} ...\n")
            self._stream.flush()

    def advance(self, done: int, detail: str = "") -> None:
        self._inner.advance(done, detail)
        if self._interactive or self._last == (done, detail):
            return
        self._last = (done, detail)
        count = f"{done}/{self._total} " if self._total else ""
        self._stream.write(f"  {count}{detail}\n")
        self._stream.flush()

    def end(self, detail: str = "") -> None:
        self._inner.end(detail)
