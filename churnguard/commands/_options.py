"""Options and checks shared by the sub-commands (a private module: churnguard.cli registers none from it)."""

import argparse

from churnguard.constants import MIN_SYNTHETIC_CUSTOMERS
from churnguard.errors import UserError


def check_synthetic_customers(count: int, option: str) -> None:
    """Refuse a synthetic table too small to split, naming the option that asked for it."""
    if count < MIN_SYNTHETIC_CUSTOMERS:
        raise UserError(
            f"{option} must be at least {MIN_SYNTHETIC_CUSTOMERS} for a meaningful split (got {count})"
        )


def add_agent_options(parser: argparse.ArgumentParser, *, supervisor: bool) -> None:
    """--agent (who is acting, recorded with every write; default the OS user) and, for commands that
    change outcomes, --supervisor (may record or correct any agent's outcome at any time)."""
    parser.add_argument(
        "--agent",
        default=None,
        metavar="NAME",
        help="the agent acting, recorded in the offers log (default: your OS user name)",
    )
    if supervisor:
        parser.add_argument(
            "--supervisor",
            action="store_true",
            help="act as a supervisor: record or correct the outcome of any agent's offer, at any time",
        )


def add_context_option(parser: argparse.ArgumentParser, help_text: str) -> None:
    """The deploy's repeatable `-c KEY=VALUE` option, for the commands that take CDK_ARGS from make;
    each command checks what it is given with infra.config.validated_context."""
    parser.add_argument("-c", "--context", action="append", default=[], metavar="KEY=VALUE", help=help_text)
