"""How `cdk destroy` is run, and the errors a person sees when it cannot be."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from churnguard.errors import UserError
from churnguard.teardown.cdk_destroy import CDK_DESTROY, find_project_root, run_cdk_destroy

REPO_ROOT = Path(__file__).resolve().parents[2]


class RecordingRunner:
    def __init__(self, returncode: int = 0) -> None:
        self.returncode = returncode
        self.calls: list[dict[str, Any]] = []

    def __call__(self, argv: list[str], **kwargs: Any) -> subprocess.CompletedProcess:
        self.calls.append({"argv": argv, **kwargs})
        return subprocess.CompletedProcess(argv, self.returncode)


def test_runs_the_pinned_cli_for_all_stacks_in_the_region() -> None:
    runner = RecordingRunner()

    run_cdk_destroy("eu-west-1", REPO_ROOT, runner=runner)

    (call,) = runner.calls
    assert call["argv"] == ["npx", "--no-install", "cdk", "destroy", "--all", "--force"] == CDK_DESTROY
    assert call["cwd"] == REPO_ROOT
    assert call["env"]["AWS_REGION"] == call["env"]["CDK_DEFAULT_REGION"] == "eu-west-1"
    # cdk.json runs `python3 app.py`: the project's interpreter must come first on PATH.
    assert call["env"]["PATH"].split(":")[0] == str(Path(sys.executable).parent)


def test_failure_stops_with_a_message_naming_skip_cdk() -> None:
    with pytest.raises(UserError, match=r"failed with exit code 1; nothing was swept.*--skip-cdk"):
        run_cdk_destroy("us-east-1", REPO_ROOT, runner=RecordingRunner(returncode=1))


def test_missing_npx_names_npm_install() -> None:
    def no_npx(argv: list[str], **kwargs: Any) -> subprocess.CompletedProcess:
        raise FileNotFoundError(argv[0])

    with pytest.raises(UserError, match=r"`npx` not found.*npm install.*--skip-cdk"):
        run_cdk_destroy("us-east-1", REPO_ROOT, runner=no_npx)


def test_project_root_is_the_folder_with_cdk_json(tmp_path: Path) -> None:
    assert find_project_root(REPO_ROOT) == REPO_ROOT
    assert find_project_root(tmp_path) == REPO_ROOT  # falls back to this checkout


def test_context_options_are_passed_as_dash_c() -> None:
    runner = RecordingRunner()

    run_cdk_destroy("us-east-1", REPO_ROOT, ["stage=prod", "model_dir=/models/v2"], runner=runner)

    assert runner.calls[0]["argv"] == [*CDK_DESTROY, "-c", "stage=prod", "-c", "model_dir=/models/v2"]


def test_context_without_equals_sign_is_refused_before_running() -> None:
    runner = RecordingRunner()

    with pytest.raises(UserError, match=r"--context 'prod' is not KEY=VALUE"):
        run_cdk_destroy("us-east-1", REPO_ROOT, ["prod"], runner=runner)
    assert runner.calls == []
