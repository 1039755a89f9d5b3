"""The `churnguard` command: one sub-command per module in churnguard.commands.

Each module there exposes `register(subparsers)`, adding its sub-command with `func` set to a
function taking the parsed arguments and returning the exit code. Errors meant for people are raised
as UserError and printed without a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
from collections.abc import Sequence

from churnguard import __version__, commands
from churnguard.errors import UserError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="churnguard",
        description="Churn prevention on Aurora MySQL machine learning, runnable offline on MariaDB.",
    )
    parser.add_argument("--version", action="version", version=f"churnguard {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module_info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda info: info.name):
        if module_info.name.startswith("_"):  # shared helpers of the commands, not a command
            continue
        module = importlib.import_module(f"{commands.__name__}.{module_info.name}")
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except UserError as error:
        print(f"churnguard {args.command}: error: {error}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        print(f"churnguard {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
