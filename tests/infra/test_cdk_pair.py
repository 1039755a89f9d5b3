"""The pinned CDK CLI (package-lock.json) reads what the pinned library (requirements.lock) writes.

The CLI refuses a cloud assembly whose schema major version is newer than the one it was built with
("Cloud assembly schema version mismatch"), so a library bumped without its CLI makes `make deploy`
fail after the synthesis. These tests run the installed CLI itself on the default synthesis, offline,
so a mismatched pair fails here first (docs/dependencies.md says how to bump both).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

from packaging.version import Version

from tests.infra.conftest import REPO_ROOT, STACK_DEFAULT, Synthesized, credential_free_env

CLI_PACKAGE = REPO_ROOT / "node_modules" / "aws-cdk"


def pinned_cli_version() -> str:
    """The CLI version package.json asks for, which package-lock.json must lock exactly."""
    package = json.loads((REPO_ROOT / "package.json").read_text(encoding="utf-8"))
    wanted = package["devDependencies"]["aws-cdk"]
    locked = json.loads((REPO_ROOT / "package-lock.json").read_text(encoding="utf-8"))
    assert locked["packages"]["node_modules/aws-cdk"]["version"] == wanted, "run `npm install` to relock"
    return wanted


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    """The CLI that `make synth|deploy` runs (`npx --no-install cdk`), with no network side trips."""
    node = shutil.which("node")
    assert node is not None, "node is not on PATH (the CDK needs Node.js)"
    assert (CLI_PACKAGE / "package.json").is_file(), "node_modules/aws-cdk is missing: run `make install`"
    env = credential_free_env(CDK_DISABLE_VERSION_CHECK="1", CDK_DISABLE_CLI_TELEMETRY="true")
    return subprocess.run(
        [node, str(CLI_PACKAGE / "bin" / "cdk"), *args, "--no-notices"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_installed_cli_is_the_pinned_one() -> None:
    installed = json.loads((CLI_PACKAGE / "package.json").read_text(encoding="utf-8"))["version"]
    assert installed == pinned_cli_version(), "node_modules is stale: run `make install`"


def test_pinned_cli_reads_the_assembly_the_pinned_library_writes(default_synth: Synthesized) -> None:
    result = run_cli("ls", "--app", str(default_synth.outdir))
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split() == [STACK_DEFAULT]


def test_library_needs_no_newer_cli_than_the_pinned_one(default_synth: Synthesized) -> None:
    # The library records the oldest CLI that understands every field it writes.
    manifest = json.loads((default_synth.outdir / "manifest.json").read_text(encoding="utf-8"))
    needed = manifest["minimumCliVersion"]
    assert Version(needed) <= Version(pinned_cli_version()), (
        f"aws-cdk-lib writes schema {manifest['version']} and needs CDK CLI >= {needed}; "
        f"package.json pins {pinned_cli_version()}"
    )


def test_pinned_cli_refuses_a_newer_schema_major(default_synth: Synthesized, tmp_path: Path) -> None:
    # What the first test guards against, made on purpose: the same manifest one schema major ahead.
    manifest = json.loads((default_synth.outdir / "manifest.json").read_text(encoding="utf-8"))
    major = int(manifest["version"].split(".")[0])
    manifest["version"] = f"{major + 1}.0.0"
    (tmp_path / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    result = run_cli("ls", "--app", str(tmp_path))
    assert result.returncode != 0
    assert "Cloud assembly schema version mismatch" in result.stderr
    assert f"Maximum schema version supported is {major}.x.x" in result.stderr
