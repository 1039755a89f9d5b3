"""The first-party import closure a Lambda bundle is built from, on small source trees."""

from __future__ import annotations

from pathlib import Path

import pytest

from infra.python_imports import UnresolvedImportError, first_party_closure, imported_names


def _tree(root: Path, files: dict[str, str]) -> None:
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def _closure(root: Path, entry: str = "handler.py") -> set[str]:
    return {path.relative_to(root).as_posix() for path in first_party_closure(root / entry, root, ["pkg"])}


def test_late_relative_and_package_imports_are_followed_type_checking_ones_are_not(tmp_path: Path) -> None:
    _tree(
        tmp_path,
        {
            "handler.py": "import json\nfrom pkg.api import answer\n",
            "pkg/__init__.py": "",
            "pkg/api.py": (
                "from typing import TYPE_CHECKING\n"
                "from . import shapes\n"
                "if TYPE_CHECKING:\n    from pkg.heavy import Model\n"
                "def answer():\n    from .sub.late import value\n    return value\n"
            ),
            "pkg/shapes.py": "",
            "pkg/heavy.py": "import numpy\n",
            "pkg/sub/__init__.py": "from ..shapes import *\n",
            "pkg/sub/late.py": "value = 1\n",
            "pkg/unused.py": "",
        },
    )
    assert _closure(tmp_path) == {
        "pkg/__init__.py",
        "pkg/api.py",
        "pkg/shapes.py",
        "pkg/sub/__init__.py",
        "pkg/sub/late.py",
    }


def test_a_name_imported_from_a_package_may_be_an_attribute(tmp_path: Path) -> None:
    _tree(tmp_path, {"handler.py": "from pkg import VERSION\n", "pkg/__init__.py": "VERSION = 1\n"})
    assert _closure(tmp_path) == {"pkg/__init__.py"}


def test_a_missing_first_party_module_is_an_error_naming_the_importer(tmp_path: Path) -> None:
    _tree(tmp_path, {"handler.py": "import pkg.gone.deeper\n", "pkg/__init__.py": ""})
    with pytest.raises(UnresolvedImportError, match=r"handler\.py imports pkg\.gone\.deeper"):
        _closure(tmp_path)


def test_relative_imports_resolve_against_the_importing_package(tmp_path: Path) -> None:
    _tree(tmp_path, {"pkg/__init__.py": "from .a import b\n", "pkg/a.py": ""})
    assert imported_names(tmp_path / "pkg/__init__.py", "pkg") == {"pkg.a", "pkg.a.b"}
    assert imported_names(tmp_path / "pkg/a.py", "pkg.a") == set()
