"""The `churnguard` command: one sub-command per module in churnguard.commands.

Each module there exposes `register(subparsers)`, adding its sub-command with `func` set to a
function taking the parsed arguments and returning the exit code. Errors meant for people are raised
as UserError and printed without a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
import sys
from collections.abc import Sequence

from churnguard import __version__, commands
from churnguard.errors import UserError


class DefaultsHelpFormatter(argparse.HelpFormatter):
    """Appends "(default: X)" to an option's help when it has a default worth showing.

    argparse's own ArgumentDefaultsHelpFormatter also prints "(default: None)" and "(default: False)"
    for flags and optional inputs, and repeats defaults a help text already states.
    """

    def _get_help_string(self, action: argparse.Action) -> str:
        help_text = action.help or ""
        default = action.default
        shown = default not in (None, False, argparse.SUPPRESS) and not isinstance(default, bool)
        if not shown or "default" in help_text or not action.option_strings:
            return help_text
        return f"{help_text} (default: %(default)s)"


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
    _show_defaults(parser)
    return parser


def _show_defaults(parser: argparse.ArgumentParser) -> None:
    """Every command's and sub-command's help shows its options' defaults (DefaultsHelpFormatter)."""
    parser.formatter_class = DefaultsHelpFormatter
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for subparser in action.choices.values():
                _show_defaults(subparser)


def main(argv: Sequence[str] | None = None) -> int:
    try:
        exit_code = _run(argv)
        sys.stdout.flush()  # a closed pipe shows here, not in the interpreter's own flush at exit
    except BrokenPipeError:
        return _reader_went_away()
    return exit_code


def _run(argv: Sequence[str] | None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except UserError as error:
        print(f"churnguard {args.command}: error: {error}", file=sys.stderr)
        return error.exit_code
    except BrokenPipeError:
        raise
    except Exception as error:
        # Missing or rejected AWS credentials and regions are the user's to fix: one line, no traceback.
        from churnguard.aws_clients import missing_setup_message  # boto3 only when a command failed

        message = missing_setup_message(error)
        if message is None:
            raise
        print(f"churnguard {args.command}: error: {message}", file=sys.stderr)
        return UserError.exit_code
    except KeyboardInterrupt:
        print(f"churnguard {args.command}: interrupted", file=sys.stderr)
        return 130


def _reader_went_away() -> int:
    """Ends quietly when the reader of our output closed it (`churnguard offers report | head`).

    Whatever is still buffered for stdout is dropped: the interpreter's own flush at exit would
    otherwise fail again and print a traceback. 141 is what a shell reports for a program ended by
    SIGPIPE, so pipelines read the same as with any Unix tool.
    """
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    return 128 + 13


if __name__ == "__main__":
    sys.exit(main())
