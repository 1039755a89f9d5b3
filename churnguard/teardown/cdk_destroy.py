"""Runs `cdk destroy --all --force` with the CDK CLI pinned in package.json.

Why the CDK CLI rather than deleting stacks with boto3: `make deploy` creates the stacks with
`cdk deploy --all`, and its counterpart knows exactly that set of stacks and deletes them in
dependency order, with the same CLI version. A project stack it leaves DELETE_FAILED is
finished by churnguard.teardown.stack_deletion; the final check afterwards lists any project stack
that survived, so nothing is assumed.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from churnguard.errors import UserError

CDK_DESTROY = ["npx", "--no-install", "cdk", "destroy", "--all", "--force"]
# `cdk destroy` synthesizes the app first; deleting a stack must not hinge on which Availability Zones
# offer the isolated network's endpoints today, so the stack skips that check (infra/availability_zones.py).
SKIP_ZONE_CHECK_ENV = "CHURNGUARD_SKIP_ZONE_CHECK"

Runner = Callable[..., subprocess.CompletedProcess]


class CdkDestroyFailed(UserError):
    """`cdk destroy` exited non-zero: a stack may be left DELETE_FAILED (teardown.stack_deletion)."""


def find_project_root(start: Path | None = None) -> Path:
    """The folder holding cdk.json: the current one, else the checkout this package runs from."""
    candidates = [start or Path.cwd(), Path(__file__).resolve().parents[2]]
    for folder in candidates:
        if (folder / "cdk.json").is_file():
            return folder
    raise UserError("cdk.json not found: run from the project folder, or pass --skip-cdk to only sweep")


def cdk_environment(region: str) -> dict[str, str]:
    """The caller's environment pinned to the region, with this interpreter's folder first on PATH so
    the `python3 app.py` in cdk.json runs with the project's virtual environment."""
    env = dict(os.environ)
    env.update(AWS_REGION=region, AWS_DEFAULT_REGION=region, CDK_DEFAULT_REGION=region)
    env[SKIP_ZONE_CHECK_ENV] = "1"
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    return env


def cdk_destroy_command(context: Sequence[str] = ()) -> list[str]:
    """The command line, with each KEY=VALUE passed on as `-c KEY=VALUE` (the options deployed with,
    such as stage=prod, which names the stack)."""
    for item in context:
        key, separator, _value = item.partition("=")
        if not separator or not key.strip():
            raise UserError(f"--context {item!r} is not KEY=VALUE (for example --context stage=prod)")
    return [*CDK_DESTROY, *(part for item in context for part in ("-c", item))]


def run_cdk_destroy(
    region: str, project_root: Path, context: Sequence[str] = (), runner: Runner = subprocess.run
) -> None:
    command = cdk_destroy_command(context)
    try:
        completed = runner(command, cwd=project_root, env=cdk_environment(region), check=False)
    except FileNotFoundError as error:
        raise UserError(
            "`npx` not found: install Node.js and run `npm install` in the project (make destroy does), "
            "or pass --skip-cdk to only sweep"
        ) from error
    if completed.returncode != 0:
        raise CdkDestroyFailed(
            f"`{' '.join(command)}` failed with exit code {completed.returncode}; nothing was swept. "
            "Fix the error it printed and rerun, or pass --skip-cdk to sweep without it"
        )
