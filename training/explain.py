"""What the model learned, for the training report and metadata.json: per feature, total gain, cover
and split count; the depth of the trees; the first tree's top splits.

Per-customer churn drivers for the call-centre API are computed from model.json in pure Python by
churnguard.drivers, which needs no xgboost in Lambda.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import xgboost as xgb


def feature_importance(booster: xgb.Booster, feature_names: list[str]) -> list[dict[str, Any]]:
    """Gain, cover and split count for every feature (zero for unused ones), by total gain, largest first."""
    total_gain = booster.get_score(importance_type="total_gain")
    total_cover = booster.get_score(importance_type="total_cover")
    splits = booster.get_score(importance_type="weight")
    rows = [
        {
            "feature": name,
            "gain": round(float(total_gain.get(name, 0.0)), 6),
            "cover": round(float(total_cover.get(name, 0.0)), 6),
            "splits": int(splits.get(name, 0)),
        }
        for name in feature_names
    ]
    return sorted(rows, key=lambda row: (-row["gain"], row["feature"]))


def used_features(booster: xgb.Booster) -> set[str]:
    """The features at least one split of the model tests."""
    return set(booster.get_score(importance_type="weight"))


def _trees(booster: xgb.Booster) -> list[dict[str, Any]]:
    return [json.loads(tree) for tree in booster.get_dump(dump_format="json")]


def _depth(node: dict[str, Any]) -> int:
    children = node.get("children", [])
    return 0 if not children else 1 + max(_depth(child) for child in children)


def tree_depths(booster: xgb.Booster) -> dict[int, int]:
    """How many trees have each depth (a stump has depth 1)."""
    return dict(sorted(Counter(_depth(tree) for tree in _trees(booster)).items()))


def first_tree_splits(booster: xgb.Booster, levels: int = 3) -> list[dict[str, Any]]:
    """The first tree's splits down to `levels` deep, breadth first: what the model checks first."""
    splits: list[dict[str, Any]] = []
    frontier = [(_trees(booster)[0], 0)]
    while frontier:
        node, level = frontier.pop(0)
        if "split" not in node or level >= levels:
            continue
        splits.append({"level": level, "feature": node["split"], "threshold": float(node["split_condition"])})
        frontier += [(child, level + 1) for child in node.get("children", [])]
    return splits
