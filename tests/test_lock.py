"""requirements.lock still answers pyproject.toml: `make install` installs the lock and then the
project with --no-deps, so a range changed in pyproject.toml without `make lock` would go unnoticed
until a missing or out-of-range package broke a user's install."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
SUPPORTED_PYTHONS = ["3.11", "3.12", "3.13"]
LOCKED_EXTRAS = ["aws", "dev"]


def project() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]


def declared_requirements() -> list[Requirement]:
    """What `make install` promises: the dependencies and the extras it installs."""
    declared = list(project()["dependencies"])
    for extra in LOCKED_EXTRAS:
        declared += project()["optional-dependencies"][extra]
    return [Requirement(text) for text in declared]


def locked_pins() -> list[Requirement]:
    """Each `name==version ; marker` line of the lock, without its hashes."""
    lines = (ROOT / "requirements.lock").read_text(encoding="utf-8").splitlines()
    return [
        Requirement(line.removesuffix("\\").strip())
        for line in lines
        if line and not line[0].isspace() and not line.startswith("#")
    ]


def pins_for(python: str) -> dict[str, str]:
    """The version of each package the lock installs on one Python (Linux x86_64, as CI runs)."""
    environment = {
        **default_environment(),
        "python_version": python,
        "python_full_version": f"{python}.0",
        "sys_platform": "linux",
        "platform_machine": "x86_64",
    }
    chosen: dict[str, str] = {}
    for pin in locked_pins():
        if pin.marker is None or pin.marker.evaluate(environment):
            name = canonicalize_name(pin.name)
            assert name not in chosen, f"requirements.lock pins {name} twice for Python {python}"
            (spec,) = pin.specifier
            chosen[name] = spec.version
    return chosen


def test_requires_python_admits_every_supported_python() -> None:
    admitted = SpecifierSet(project()["requires-python"])
    assert [python for python in SUPPORTED_PYTHONS if f"{python}.0" in admitted] == SUPPORTED_PYTHONS
    assert "3.10.0" not in admitted


def test_every_lock_line_is_an_exact_pin() -> None:
    pins = locked_pins()
    assert len(pins) > 50
    assert all(len(pin.specifier) == 1 and next(iter(pin.specifier)).operator == "==" for pin in pins)


@pytest.mark.parametrize("python", SUPPORTED_PYTHONS)
def test_lock_satisfies_every_declared_range(python: str) -> None:
    pins = pins_for(python)
    problems = []
    for requirement in declared_requirements():
        version = pins.get(canonicalize_name(requirement.name))
        if version is None:
            problems.append(f"{requirement.name} is not locked")
        elif version not in requirement.specifier:
            problems.append(f"{requirement.name}=={version} is outside {requirement.specifier}")
    assert not problems, f"requirements.lock is stale for Python {python} (run `make lock`): {problems}"
