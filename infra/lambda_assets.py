"""Stages a Lambda bundle as a plain folder: the handler folder, a copy of churnguard/, generated files.

No Docker and no pip at synth: the Lambda code imports only the standard library, boto3 and
churnguard (docs/architecture.md, "AWS side"), so a folder is the whole build. The folder's content
alone decides the CDK asset hash, so an unchanged bundle is not re-uploaded.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path

from churnguard.errors import UserError
from infra.config import REPO_ROOT

LAMBDA_ROOT = REPO_ROOT / "lambda"
SHARED_PACKAGE = REPO_ROOT / "churnguard"
_IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache", "tests")


class MissingHandlerError(UserError):
    """A Lambda folder or its handler module is absent, so there is nothing to deploy."""


def stage_bundle(handler_folder: str, *, handler_module: str, extra_files: Mapping[str, bytes]) -> Path:
    """Copy lambda/<handler_folder>/, churnguard/ and `extra_files` ({path: bytes}) into a new folder.

    The folder lives in the temporary directory until the process exits; CDK copies it into the
    cloud assembly during synthesis.
    """
    source = LAMBDA_ROOT / handler_folder
    handler_file = source / f"{handler_module}.py"
    if not handler_file.is_file():
        raise MissingHandlerError(
            f"the Lambda handler lambda/{handler_folder}/{handler_module}.py does not exist; "
            f"it is part of the repository (restore it with git) and is needed to synthesize the stack"
        )
    destination = Path(tempfile.mkdtemp(prefix=f"churnguard-{handler_folder}-")).resolve()
    atexit.register(shutil.rmtree, destination, ignore_errors=True)
    shutil.copytree(source, destination, dirs_exist_ok=True, ignore=_IGNORED)
    shutil.copytree(SHARED_PACKAGE, destination / "churnguard", ignore=_IGNORED)
    for relative, content in sorted(extra_files.items()):
        target = destination / relative
        if destination not in target.resolve().parents:
            raise ValueError(f"extra file {relative!r} would land outside the bundle")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
    return destination
