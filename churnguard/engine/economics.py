"""The model's economics as its training run chose them: the cut-off and the costs it was chosen for.

Training picks the cut-off that minimises (offers made x offer cost) + (churners missed x lost-customer
cost) on customers it did not train on (metadata.json: "cutoff", "cost.offer_usd",
"cost.lost_customer_usd"). The rules may refer to that cut-off ("model_cutoff"), and `offers report`
sets the training's offer cost beside what the rules' offers cost, since a cut-off chosen for $50
offers is not the best one for $5 offers. Standard library only: it runs in the recommend Lambda.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from churnguard.engine.rules import ModelCutoff
from churnguard.model_folder import ModelFolder


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
    """The cut-off and cost assumptions of the model folder (checked by ModelFolder)."""
    return economics_of(ModelFolder.read(model_dir))


def economics_of(folder: ModelFolder) -> ModelEconomics:
    return ModelEconomics(
        cutoff=folder.cutoff,
        offer_usd=folder.offer_usd,
        lost_customer_usd=folder.lost_customer_usd,
        source=str(folder.metadata_path),
    )
