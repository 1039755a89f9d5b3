"""How often call_reason agrees with labels a person wrote: agreement and the confusion matrix, as
docs/sql.md reports them for the local stand-in. Pure: pairs in, plain data out."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from churnguard.call_reason.labels import LABELS


@dataclass(frozen=True)
class Fidelity:
    """`matrix[expected][answered]` counts messages; `agreement` is the share on the diagonal."""

    matrix: dict[str, dict[str, int]]

    @property
    def total(self) -> int:
        return sum(sum(row.values()) for row in self.matrix.values())

    @property
    def agreed(self) -> int:
        return sum(self.matrix[label][label] for label in LABELS)

    @property
    def agreement(self) -> float:
        return self.agreed / self.total if self.total else 0.0

    def recall(self, label: str) -> float:
        """Of the messages a person labelled `label`, the share the function labelled the same."""
        row = self.matrix[label]
        return row[label] / sum(row.values()) if sum(row.values()) else 0.0

    def table(self) -> str:
        """The matrix as a Markdown table: one row per person's label, one column per answer."""
        header = "| labelled \\ answered | " + " | ".join(LABELS) + " | recall |"
        rule = "|---" * (len(LABELS) + 2) + "|"
        rows = [
            f"| {label} | "
            + " | ".join(str(self.matrix[label][answer]) for answer in LABELS)
            + f" | {self.recall(label):.0%} |"
            for label in LABELS
        ]
        return "\n".join([header, rule, *rows])


def fidelity(pairs: Iterable[tuple[str, str]]) -> Fidelity:
    """The confusion matrix of (expected, answered) label pairs; an unknown label is refused."""
    matrix = {expected: dict.fromkeys(LABELS, 0) for expected in LABELS}
    for expected, answered in pairs:
        if expected not in matrix or answered not in matrix:
            raise ValueError(f"not a call-reason label: {expected!r} or {answered!r}")
        matrix[expected][answered] += 1
    return Fidelity(matrix)
