"""`make deploy` without AWS credentials: one line from the pre-flight, within seconds, and nothing trained,
kept or synthesized (issue 27: it used to synthesize for ~20 s and print "kept ..." before CDK's error)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(
    shutil.which("make") is None or not (ROOT / ".venv" / "bin" / "churnguard").exists(),
    reason="needs make and the project's .venv (make install)",
)


def make_deploy(out: Path, *variables: str) -> tuple[subprocess.CompletedProcess[str], float]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("AWS_")}
    env.update(
        AWS_PROFILE="",  # an empty profile name, as a half-configured shell has it
        AWS_CONFIG_FILE=os.devnull,
        AWS_SHARED_CREDENTIALS_FILE=os.devnull,
        AWS_EC2_METADATA_DISABLED="true",
        AWS_REGION="eu-west-1",
        PYTHONPATH=str(ROOT),  # the code of this checkout, whichever one installed .venv
    )
    started = time.monotonic()
    result = subprocess.run(
        # -o: the install is done (its stamp may be older than pyproject.toml in a worktree).
        ["make", "--no-print-directory", "-o", ".venv/.installed", "deploy", f"OUT={out}", *variables],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return result, time.monotonic() - started


def own_lines(result: subprocess.CompletedProcess[str]) -> list[str]:
    """What the recipes printed, without make's own "make: *** [...] Error 2" line ("make[1]: ***" when
    the tests themselves run under make, as `make test` and CI run them)."""
    lines = (result.stdout + result.stderr).splitlines()
    return [line for line in lines if line.strip() and not re.match(r"make(\[\d+\])?: \*\*\*", line)]


@pytest.mark.parametrize("profile", ["", "nonexistent"])
def test_make_deploy_without_credentials_refuses_in_one_line_within_seconds(
    tmp_path: Path, profile: str
) -> None:
    out = tmp_path / "model"
    result, elapsed = make_deploy(out, f"AWS_PROFILE={profile}") if profile else make_deploy(out)

    assert result.returncode != 0
    (line,) = own_lines(result)
    assert line.startswith("churnguard preflight: error: ")
    assert "nothing was deployed" in line
    assert elapsed < 10, f"took {elapsed:.1f} s"
    assert not out.exists(), "nothing may be trained before the pre-flight passes"


def test_make_deploy_refuses_a_misspelt_option_before_anything_else(tmp_path: Path) -> None:
    result, _ = make_deploy(tmp_path / "model", "CDK_ARGS=-c netwrok=isolated")

    assert result.returncode != 0
    (line,) = own_lines(result)
    assert "unknown option 'netwrok' (did you mean network?)" in line
