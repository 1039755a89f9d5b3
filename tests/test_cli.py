"""The `churnguard` command's help: every option with a default says what it is."""

import argparse

from churnguard.cli import build_parser


def _all_parsers(parser: argparse.ArgumentParser):
    yield parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for subparser in action.choices.values():
                yield from _all_parsers(subparser)


def test_every_option_with_a_default_shows_it_in_help() -> None:
    missing = []
    for parser in _all_parsers(build_parser()):
        help_text = " ".join(parser.format_help().split())
        for action in parser._actions:
            default = action.default
            if not action.option_strings or default in (None, argparse.SUPPRESS) or isinstance(default, bool):
                continue
            if str(default) not in help_text:
                missing.append(f"{parser.prog} {action.option_strings[0]} (default {default})")
    assert missing == []


def test_train_help_names_its_output_folder_and_costs() -> None:
    train = next(p for p in _all_parsers(build_parser()) if p.prog.endswith(" train"))
    help_text = " ".join(train.format_help().split())
    assert "output folder (default: artifacts/model)" in help_text
    assert "cost of one lost customer (default: 500.0)" in help_text
