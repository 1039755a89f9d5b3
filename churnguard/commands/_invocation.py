"""How to name the `churnguard` command in a hint so that it works when pasted into the user's shell.

`make demo` runs `.venv/bin/churnguard` with .venv/bin put first on PATH for make's own commands only;
the shell the user pastes into usually has no `churnguard` on its PATH. So a hint names the program
that is running by its path (relative to the current folder when it is inside it), unless that program
is the one the shell would find anyway. The Makefile keeps the shell's own PATH in SHELL_PATH_ENV
before it puts .venv/bin first.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

COMMAND = "churnguard"
SHELL_PATH_ENV = "CHURNGUARD_SHELL_PATH"


def churnguard_command() -> str:
    """`churnguard` when the user's PATH finds this program, else its path (`.venv/bin/churnguard`)."""
    program = Path(sys.argv[0])
    if program.name != COMMAND:  # `python -m churnguard.cli`: nothing better to say than the name
        return COMMAND
    running = program.resolve()
    on_path = shutil.which(COMMAND, path=os.environ.get(SHELL_PATH_ENV) or os.environ.get("PATH"))
    if on_path and Path(on_path).resolve() == running:
        return COMMAND
    try:
        return str(running.relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(running)
