"""Stages a Lambda bundle as a plain folder: the handler folder, the churnguard modules the handler
imports, the data files those modules read, and generated files.

No Docker and no pip at synth: the Lambda code imports only the standard library, boto3 and
churnguard (docs/architecture.md, "AWS side"), so a folder is the whole build. Of churnguard, the
bundle holds what the handler imports, directly or through other modules (infra/python_imports.py),
not the whole package: the recommend API's bundle has no training, console server or teardown code.
The folder's content alone decides the CDK asset hash, so an unchanged bundle is not re-uploaded.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path

from churnguard.errors import UserError
from infra.config import REPO_ROOT
from infra.python_imports import first_party_closure

LAMBDA_ROOT = REPO_ROOT / "lambda"
SHARED_PACKAGE = "churnguard"
# Files a bundled module reads at run time (not imports, so not found by reading the imports), by the
# module that reads them; paths relative to the repository.
PACKAGE_DATA: dict[str, tuple[str, ...]] = {
    "churnguard/engine/rules.py": ("churnguard/rules/default.json",),  # load_rules() without a path
}
_IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache", "tests")


class MissingHandlerError(UserError):
    """A Lambda folder or its handler module is absent, so there is nothing to deploy."""


def bundled_package_files(handler_file: Path, root: Path = REPO_ROOT) -> list[str]:
    """The churnguard files (relative to `root`) a handler's bundle holds: the modules it imports,
    directly or not, and the data files those modules read."""
    modules = first_party_closure(handler_file, root, [SHARED_PACKAGE])
    files = {path.relative_to(root).as_posix() for path in modules}
    for module in sorted(files):
        files.update(PACKAGE_DATA.get(module, ()))
    return sorted(files)


def stage_bundle(handler_folder: str, *, handler_module: str, extra_files: Mapping[str, bytes]) -> Path:
    """Copy lambda/<handler_folder>/, the churnguard files its handler needs and `extra_files`
    ({path: bytes}) into a new folder.

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
    for relative in bundled_package_files(handler_file):
        target = destination / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(REPO_ROOT / relative, target)
    for relative, content in sorted(extra_files.items()):
        target = destination / relative
        if destination not in target.resolve().parents:
            raise ValueError(f"extra file {relative!r} would land outside the bundle")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
    return destination
