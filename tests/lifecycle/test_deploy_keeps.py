"""`make deploy` keeps the folder it deploys by id before deploying it, so every model that was ever
live can be deployed again (the rollback docs/lifecycle.md promises) even if nobody ran `models keep`."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from churnguard.cli import main
from churnguard.lifecycle.identity import read_identity

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_deploy_keeps_the_folder_by_id_before_cdk_deploys_it(trained_model_dir: Path) -> None:
    result = subprocess.run(
        [
            "make",
            "-n",
            "-o",
            ".venv/.installed",
            "-o",
            "node_modules/.installed",
            "deploy",
            f"OUT={trained_model_dir}",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    commands = result.stdout.splitlines()
    keep = next(
        index for index, line in enumerate(commands) if f"churnguard models keep {trained_model_dir}" in line
    )
    deploy = next(index for index, line in enumerate(commands) if "cdk deploy" in line)
    assert keep < deploy


def test_keeping_then_deploying_from_the_kept_folder_keeps_nothing_twice(
    trained_model_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = tmp_path / "store"
    assert main(["models", "keep", str(trained_model_dir), "--store", str(store)]) == 0
    kept = store / read_identity(trained_model_dir).model_id
    first_listing = sorted(path.name for path in kept.iterdir())
    # A rollback deploys the kept folder, which keeps it again: the same folder, nothing copied.
    assert main(["models", "keep", str(kept), "--store", str(store)]) == 0
    assert sorted(path.name for path in store.iterdir()) == [kept.name]
    assert sorted(path.name for path in kept.iterdir()) == first_listing
    assert str(kept) in capsys.readouterr().out
