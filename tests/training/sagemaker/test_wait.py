"""What a long wait prints when stderr is a log file rather than a terminal."""

from __future__ import annotations

import io

from training.sagemaker.wait import TUNING_JOB, JobProgress


def test_a_log_gets_one_line_per_change_of_state() -> None:
    stream = io.StringIO()
    progress = JobProgress(stream)
    progress.begin("waiting for tuning job churnguard-261126-120000-hpo", 20)
    for done, detail in [
        (0, "InProgress, no job finished yet"),
        (0, "InProgress, no job finished yet"),
        (3, "InProgress, best validation AUC 0.9125"),
        (3, "InProgress, best validation AUC 0.9125"),
        (20, "Completed, best validation AUC 0.9125"),
    ]:
        progress.advance(done, detail)
    progress.end("Completed, best validation AUC 0.9125")
    lines = stream.getvalue().splitlines()
    assert lines[:4] == [
        "waiting for tuning job churnguard-261126-120000-hpo ...",
        "  0/20 InProgress, no job finished yet",
        "  3/20 InProgress, best validation AUC 0.9125",
        "  20/20 Completed, best validation AUC 0.9125",
    ]
    assert lines[4].startswith("waiting for tuning job churnguard-261126-120000-hpo done in ")
    assert len(lines) == 5


def test_the_stop_hint_is_the_cli_command() -> None:
    assert TUNING_JOB.stop_hint("x-hpo") == (
        "aws sagemaker stop-hyper-parameter-tuning-job --hyper-parameter-tuning-job-name x-hpo"
    )
