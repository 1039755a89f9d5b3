"""The model's economics as its training run chose them: the cut-off and the costs it was chosen for.

Training picks the cut-off that minimises (offers made x offer cost) + (churners missed x lost-customer
cost) on customers it did not train on (metadata.json: "cutoff", "cost.offer_usd",
"cost.lost_customer_usd"). The rules may refer to that cut-off ("model_cutoff"), and `offers report`
sets the training's offer cost beside what the rules' offers cost, since a cut-off chosen for $50
offers is not the best one for $5 offers. Standard library only: it runs in the recommend Lambda.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from churnguard.engine.rules import ModelCutoff
from churnguard.errors import UserError


@dataclass(frozen=True)
class ModelEconomics:
    """What metadata.json says about when to make an offer and what the training assumed it costs."""

    cutoff: float
    offer_usd: float | None
    lost_customer_usd: float | None
    source: str

    @property
    def model_cutoff(self) -> ModelCutoff:
        return ModelCutoff(value=self.cutoff, source=self.source)

    def to_json(self) -> dict[str, Any]:
        return {
            "cutoff": self.cutoff,
            "offer_usd": self.offer_usd,
            "lost_customer_usd": self.lost_customer_usd,
            "source": self.source,
        }


def read_economics(model_dir: str | Path) -> ModelEconomics:
    """The cut-off and cost assumptions from `model_dir`/metadata.json; a clear error when absent."""
    path = Path(model_dir) / "metadata.json"
    try:
        metadata = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserError(f"{path}: no such file (is {model_dir} a trained model folder?)") from None
    except (OSError, ValueError) as problem:
        raise UserError(f"{path}: cannot read it as JSON ({problem})") from None
    cutoff = metadata.get("cutoff") if isinstance(metadata, dict) else None
    if isinstance(cutoff, bool) or not isinstance(cutoff, int | float) or not 0.0 < cutoff < 1.0:
        raise UserError(
            f"{path}: field 'cutoff' must be a number strictly between 0 and 1 (found {cutoff!r})"
        )
    cost = metadata.get("cost") if isinstance(metadata.get("cost"), dict) else {}
    return ModelEconomics(
        cutoff=float(cutoff),
        offer_usd=_usd(cost.get("offer_usd")),
        lost_customer_usd=_usd(cost.get("lost_customer_usd")),
        source=str(path),
    )


def _usd(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None
