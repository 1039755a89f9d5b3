"""The labelled messages written for the call-reason stand-in: a tuning part its phrases were built
from, and a held-out part they were not (written first, never tuned on)."""

from __future__ import annotations

import csv
from pathlib import Path

HERE = Path(__file__).resolve().parent
TUNING = HERE / "messages_tuning.csv"
HELD_OUT = HERE / "messages_heldout.csv"


def labelled(path: Path) -> list[tuple[str, str]]:
    """(label, message) rows of one part."""
    with path.open(encoding="utf-8", newline="") as handle:
        return [(row["label"], row["message"]) for row in csv.DictReader(handle)]
