"""Checks shared by the sub-commands' options (a private module: churnguard.cli registers none from it)."""

from churnguard.constants import MIN_SYNTHETIC_CUSTOMERS
from churnguard.errors import UserError


def check_synthetic_customers(count: int, option: str) -> None:
    """Refuse a synthetic table too small to split, naming the option that asked for it."""
    if count < MIN_SYNTHETIC_CUSTOMERS:
        raise UserError(
            f"{option} must be at least {MIN_SYNTHETIC_CUSTOMERS} for a meaningful split (got {count})"
        )
