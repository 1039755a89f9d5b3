"""Hints name the `churnguard` command so that they work when pasted into the user's own shell."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from churnguard.commands import _invocation
from churnguard.commands._invocation import SHELL_PATH_ENV, churnguard_command


@pytest.fixture()
def venv_program(tmp_path: Path, monkeypatch) -> Path:
    """A project folder with `.venv/bin/churnguard` running, the current folder being the project."""
    program = tmp_path / ".venv" / "bin" / "churnguard"
    program.parent.mkdir(parents=True)
    program.write_text("#!/bin/sh\n")
    program.chmod(0o755)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "argv", [str(program), "demo"])
    return program


def test_a_program_the_shell_cannot_find_is_named_by_its_path(venv_program, monkeypatch):
    # As under `make demo`: make put .venv/bin on PATH, the shell's own PATH (kept aside) lacks it.
    monkeypatch.setenv("PATH", f"{venv_program.parent}:/usr/bin")
    monkeypatch.setenv(SHELL_PATH_ENV, "/usr/bin")
    assert churnguard_command() == ".venv/bin/churnguard"


def test_a_program_on_the_shells_path_is_named_plainly(venv_program, monkeypatch):
    # An activated virtualenv: the shell finds this very program.
    monkeypatch.setenv("PATH", f"{venv_program.parent}:/usr/bin")
    monkeypatch.delenv(SHELL_PATH_ENV, raising=False)
    assert churnguard_command() == "churnguard"


def test_a_program_outside_the_current_folder_is_named_by_its_whole_path(venv_program, monkeypatch, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    monkeypatch.setenv("PATH", "/usr/bin")
    assert churnguard_command() == str(venv_program.resolve())


def test_python_dash_m_falls_back_to_the_name(monkeypatch):
    monkeypatch.setattr(sys, "argv", [_invocation.__file__])
    assert churnguard_command() == "churnguard"
