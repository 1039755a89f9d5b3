"""`make verify` passes the deploy's CDK_ARGS and the model folder to `churnguard verify`, and never
trains (a freshly trained model is not the deployed one)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")


def planned_commands(
    *variables: str, target: str = "verify", command: str = "churnguard verify"
) -> list[str]:
    """The lines of `command` that `make -n <target>` would run with `variables`."""
    result = subprocess.run(
        ["make", "-n", "-W", ".venv/.installed", target, *variables],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return [line for line in result.stdout.splitlines() if command in line]


def test_make_verify_takes_the_deploys_cdk_args_and_model_folder():
    (command,) = planned_commands("CDK_ARGS=-c stage=prod -c network=nat", "OUT=models/v2")

    assert command.split()[1:] == [
        "verify",
        "-c",
        "model_dir=models/v2",
        "--model-dir",
        "models/v2",
        "-c",
        "stage=prod",
        "-c",
        "network=nat",
    ]


def test_make_verify_passes_args_for_the_local_stand_in():
    (command,) = planned_commands("ARGS=--local --json")

    assert command.split()[1:] == ["verify", "-c", "model_dir=artifacts/model", "--local", "--json"]


def test_make_verify_out_names_the_model_for_the_local_stand_in_too():
    """Locally the deploy's -c model_dir does not apply: an OUT given to make must reach --model-dir."""
    (command,) = planned_commands("ARGS=--local", "OUT=models/v2")

    assert command.split()[1:] == [
        "verify",
        "-c",
        "model_dir=models/v2",
        "--model-dir",
        "models/v2",
        "--local",
    ]


def test_make_verify_never_trains():
    result = subprocess.run(
        ["make", "-n", "verify"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )

    assert "churnguard train" not in result.stdout


def test_make_bootstrap_runs_cdk_bootstrap_with_the_apps_options_and_quiet_jsii():
    """`cdk bootstrap` runs the app: through make it gets the model folder and the exported variables
    that keep jsii's Node.js banner off the screen (printed as Python byte strings otherwise)."""
    (command,) = planned_commands(
        "OUT=models/v2", "ARGS=aws://123456789012/eu-west-1", target="bootstrap", command="cdk bootstrap"
    )
    assert command.split()[-4:] == ["bootstrap", "-c", "model_dir=models/v2", "aws://123456789012/eu-west-1"]
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert "export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION" in makefile
