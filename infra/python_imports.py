"""The first-party modules a Python file needs, read from its import statements without running it.

A Lambda bundle holds its handler and what the handler imports, not the whole package. The imports
are read with `ast`, function-level ones included (the handlers import some modules only when a
request needs them), so a module reached only on the request path is bundled as surely as one
imported at load time. Imports under `if TYPE_CHECKING:` are left out: they never run.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator
from pathlib import Path


class UnresolvedImportError(ValueError):
    """A first-party import names a module that is not in the source tree."""


def _is_type_checking_block(node: ast.AST) -> bool:
    if not isinstance(node, ast.If):
        return False
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _import_nodes(tree: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    """Every import statement in the tree, at any depth, except inside `if TYPE_CHECKING:`."""
    pending = [tree]
    while pending:
        node = pending.pop()
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        for child in ast.iter_child_nodes(node):
            if not _is_type_checking_block(child):
                pending.append(child)


def imported_names(source: Path, module: str) -> set[str]:
    """Dotted names `source` (module `module`, "" for a top-level script) imports, relative ones
    resolved; for `from X import Y` both X and X.Y, since Y may be a submodule."""
    tree = ast.parse(source.read_text(encoding="utf-8"), filename=str(source))
    package = module if source.name == "__init__.py" else module.rpartition(".")[0]
    names: set[str] = set()
    for node in _import_nodes(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
            continue
        base = node.module or ""
        if node.level:
            parts = package.split(".") if package else []
            if node.level - 1 > len(parts):
                raise UnresolvedImportError(f"{source}: relative import beyond the top-level package")
            anchor = ".".join(parts[: len(parts) - (node.level - 1)])
            base = ".".join(part for part in (anchor, base) if part)
        names.add(base)
        names.update(f"{base}.{alias.name}" for alias in node.names if alias.name != "*")
    return names


def _module_file(root: Path, name: str) -> Path | None:
    path = root.joinpath(*name.split("."))
    for candidate in (path.with_suffix(".py"), path / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def first_party_closure(entry: Path, root: Path, packages: Iterable[str]) -> set[Path]:
    """The files under `root` of every module of `packages` that `entry` imports, directly or through
    them, with the `__init__.py` of each package on the way (Python runs those on import)."""
    packages = tuple(packages)
    found: set[Path] = set()
    pending: list[tuple[Path, str]] = [(entry, "")]
    while pending:
        source, module = pending.pop()
        for name in sorted(imported_names(source, module)):
            if name.split(".")[0] not in packages:
                continue
            parts = name.split(".")
            for depth in range(1, len(parts) + 1):
                prefix = ".".join(parts[:depth])
                path = _module_file(root, prefix)
                if path is None:
                    if depth == len(parts) and depth > 1 and _module_file(root, ".".join(parts[:-1])):
                        continue  # `from package import name` naming an attribute, not a module
                    raise UnresolvedImportError(f"{source} imports {name}, which is not under {root}")
                if path not in found:
                    found.add(path)
                    pending.append((path, prefix))
    return found
