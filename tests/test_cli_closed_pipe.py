"""`churnguard ... | head`: a reader that goes away ends the command quietly, with no traceback.

Each command runs in a child process whose stdout is a pipe that nobody reads: its read end is closed
before the command writes a byte, so the first write meets a closed pipe whatever the output's size
(a test that closed the pipe after one line would pass whenever the output fits the pipe's buffer).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from churnguard.cli import build_parser
from tests.fixtures.mariadb import scratch_database

REPO = Path(__file__).resolve().parents[1]
SIGPIPE_EXIT = 141


def _run_into_closed_pipe(*arguments: str) -> subprocess.CompletedProcess[str]:
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        return subprocess.run(
            [sys.executable, "-m", "churnguard.cli", *arguments],
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            cwd=REPO,
            env={**os.environ, "PYTHONPATH": str(REPO)},
            timeout=120,
            check=False,
        )
    finally:
        os.close(write_end)


def _command_names() -> list[str]:
    subparsers = next(action for action in build_parser()._actions if action.choices)
    return sorted(subparsers.choices)


@pytest.mark.parametrize("command", _command_names())
def test_every_commands_help_ends_quietly_on_a_closed_pipe(command: str) -> None:
    finished = _run_into_closed_pipe(command, "--help")
    assert finished.stderr == ""


def test_the_call_centre_statement_ends_quietly_on_a_closed_pipe(trained_model_dir: Path) -> None:
    finished = _run_into_closed_pipe("sql", "call-centre", "--model", str(trained_model_dir))
    assert finished.stderr == ""
    assert finished.returncode == SIGPIPE_EXIT


@pytest.mark.mariadb
def test_query_rows_end_quietly_on_a_closed_pipe(mariadb_url: str) -> None:
    with scratch_database(mariadb_url, "pipe") as url:
        finished = _run_into_closed_pipe("sql", "--db-url", url, "SELECT seq FROM seq_1_to_50000", "--json")
    assert finished.stderr == ""
    assert finished.returncode == SIGPIPE_EXIT


def test_errors_still_reach_stderr_when_stdout_is_closed(tmp_path: Path) -> None:
    finished = _run_into_closed_pipe("sql", "call-centre", "--model", str(tmp_path / "no-such-model"))
    assert "no trained model" in finished.stderr
    assert "Traceback" not in finished.stderr
