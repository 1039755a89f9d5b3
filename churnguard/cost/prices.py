"""Loads the price table kept in the repository (churnguard/data/prices.json) and checks every figure.

A figure without a region, a date or a source is refused: an estimate is only as trustworthy as the
figures behind it, and a reader must be able to check each one against AWS's own page.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from churnguard.errors import UserError

REQUIRED_FIGURE_FIELDS = ("usd", "per", "region", "date", "source")


@dataclass(frozen=True)
class PriceFigure:
    """One price: `usd` per `per`, as found at `source` on `date` for `region`."""

    name: str
    usd: float
    per: str
    region: str
    date: str
    source: str


@dataclass(frozen=True)
class PriceTable:
    region: str
    hours_per_month: float
    reference_usd_per_hour: float
    unit_prices: dict[str, PriceFigure]
    aurora_instance_hour: dict[str, PriceFigure]
    sagemaker_instance_hour: dict[str, PriceFigure]
    assumptions: dict[str, float]
    free_when_idle: dict[str, str]
    free_when_idle_prefixes: dict[str, str]

    def unit(self, name: str) -> PriceFigure:
        return self.unit_prices[name]

    def free_reason(self, resource_type: str) -> str | None:
        """Why a resource type costs nothing while idle, or None when the table does not say so."""
        if resource_type in self.free_when_idle:
            return self.free_when_idle[resource_type]
        for prefix, reason in self.free_when_idle_prefixes.items():
            if resource_type.startswith(prefix):
                return reason
        return None


def default_price_table_path() -> Path:
    return Path(str(resources.files("churnguard") / "data" / "prices.json"))


def load_price_table(path: Path | None = None) -> PriceTable:
    path = path or default_price_table_path()
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise UserError(f"price table not found: {path}") from error
    except json.JSONDecodeError as error:
        raise UserError(f"price table {path} is not valid JSON: {error}") from error
    try:
        return _parse(raw, path)
    except KeyError as error:
        raise UserError(f"price table {path}: missing field {error}") from error


def _parse(raw: dict[str, Any], path: Path) -> PriceTable:
    def figures(section: str) -> dict[str, PriceFigure]:
        return {name: _figure(f"{section}.{name}", entry, path) for name, entry in raw[section].items()}

    return PriceTable(
        region=raw["region"],
        hours_per_month=float(raw["hours_per_month"]),
        reference_usd_per_hour=float(raw["reference"]["usd_per_hour"]),
        unit_prices=figures("unit_prices"),
        aurora_instance_hour=figures("aurora_instance_hour"),
        sagemaker_instance_hour=figures("sagemaker_instance_hour"),
        assumptions={name: float(entry["value"]) for name, entry in raw["assumptions"].items()},
        free_when_idle=dict(raw["free_when_idle"]),
        free_when_idle_prefixes=dict(raw["free_when_idle_prefixes"]),
    )


def _figure(name: str, entry: dict[str, Any], path: Path) -> PriceFigure:
    missing = [field for field in REQUIRED_FIGURE_FIELDS if not entry.get(field) and entry.get(field) != 0]
    if missing:
        raise UserError(f"price table {path}: figure {name} lacks {', '.join(missing)}")
    usd = entry["usd"]
    if not isinstance(usd, int | float) or usd < 0:
        raise UserError(f"price table {path}: figure {name} has usd={usd!r}; expected a number >= 0")
    return PriceFigure(
        name=name,
        usd=float(usd),
        per=entry["per"],
        region=entry["region"],
        date=entry["date"],
        source=entry["source"],
    )
