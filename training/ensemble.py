"""Averaging several boosters' logistic margins, written as ONE xgboost model.

A binary:logistic booster scores `sigmoid(base_margin + sum of its trees' leaves)`. The mean of K such
margins is `mean(base_margin_k) + sum over every tree of (leaf / K)`: one tree ensemble holding all K
boosters' trees with every leaf value divided by K, whose base score is the probability of the mean
base margin. Written in xgboost's own JSON format, that model is loaded by xgboost and the SageMaker
built-in container, compiled to SQL and explained by `churnguard.drivers` like any trained booster,
so averaging needs nothing new downstream.

The boosters may split on different feature sets (the reduced model's folds each keep their own):
every split is re-pointed at the feature's position in the merged model's feature list.
"""

from __future__ import annotations

import copy
import json
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import xgboost as xgb

_LEAF = -1


def _document(booster: xgb.Booster) -> dict[str, Any]:
    return json.loads(bytes(booster.save_raw("json")))


def _base_margin(learner: dict[str, Any]) -> float:
    if learner["objective"]["name"] != "binary:logistic":
        raise ValueError(f"only binary:logistic boosters are averaged, not {learner['objective']['name']!r}")
    # "5E-1" in xgboost 3.0, "[5E-1]" from 3.1 on; xgboost reads it as float32.
    probability = float(np.float32(float(learner["learner_model_param"]["base_score"].strip("[]"))))
    return math.log(probability / (1.0 - probability))


def _scaled_tree(
    tree: dict[str, Any], weight: float, positions: Sequence[int], feature_count: int, tree_id: int
) -> dict[str, Any]:
    """A copy of one tree with its leaf values (and node weights) times `weight`, its splits re-pointed."""
    scaled = copy.deepcopy(tree)
    scaled["id"] = tree_id
    scaled["base_weights"] = [value * weight for value in tree["base_weights"]]
    scaled["split_conditions"] = [
        value * weight if left == _LEAF else value
        for value, left in zip(tree["split_conditions"], tree["left_children"], strict=True)
    ]
    scaled["split_indices"] = [
        positions[index] if left != _LEAF else 0
        for index, left in zip(tree["split_indices"], tree["left_children"], strict=True)
    ]
    scaled["tree_param"] = {**tree["tree_param"], "num_feature": str(feature_count)}
    return scaled


def average_boosters(boosters: Sequence[xgb.Booster], feature_names: Sequence[str]) -> xgb.Booster:
    """One booster whose margin is the mean of the boosters' margins, over `feature_names` in that order.

    Every feature a booster splits on must be in `feature_names`; features it does not split on may be
    missing from it. Raises ValueError for no boosters, another objective or a feature not listed.
    """
    if not boosters:
        raise ValueError("need at least one booster to average")
    documents = [_document(booster) for booster in boosters]
    position_of = {name: position for position, name in enumerate(feature_names)}
    weight = 1.0 / len(documents)
    trees: list[dict[str, Any]] = []
    for document in documents:
        learner = document["learner"]
        names = learner["feature_names"]
        for tree in learner["gradient_booster"]["model"]["trees"]:
            used = {
                names[index]
                for index, left in zip(tree["split_indices"], tree["left_children"], strict=True)
                if left != _LEAF
            }
            missing = sorted(used - position_of.keys())
            if missing:
                raise ValueError(f"a booster splits on {', '.join(missing)}, not in the merged feature list")
            positions = [position_of.get(name, 0) for name in names]
            trees.append(_scaled_tree(tree, weight, positions, len(feature_names), len(trees)))
    mean_margin = float(np.mean([_base_margin(document["learner"]) for document in documents]))
    merged = copy.deepcopy(documents[0])
    learner = merged["learner"]
    learner["attributes"] = {}
    learner["feature_names"] = list(feature_names)
    learner["feature_types"] = ["float"] * len(feature_names) if learner.get("feature_types") else []
    learner["learner_model_param"] = {
        **learner["learner_model_param"],
        # The shortest text that reads back as the same float32: xgboost 3.0 silently reads longer
        # decimal expansions (17 digits) as its default 0.5.
        "base_score": np.format_float_scientific(
            np.float32(1.0 / (1.0 + math.exp(-mean_margin))), unique=True
        ),
        "num_feature": str(len(feature_names)),
    }
    model = learner["gradient_booster"]["model"]
    model["trees"] = trees
    model["tree_info"] = [0] * len(trees)
    model["iteration_indptr"] = list(range(len(trees) + 1))
    model["gbtree_model_param"] = {**model["gbtree_model_param"], "num_trees": str(len(trees))}
    averaged = xgb.Booster()
    averaged.load_model(bytearray(json.dumps(merged).encode("utf-8")))
    if abs(_base_margin(_document(averaged)["learner"]) - mean_margin) > 1e-6:
        raise ValueError("xgboost did not keep the averaged base score")
    return averaged


def average_probabilities(scores: Sequence[np.ndarray]) -> np.ndarray:
    """The probabilities of the mean logistic margin of several models' probabilities (row by row)."""
    if len(scores) == 1:
        return scores[0]
    stacked = np.clip(np.asarray(scores, dtype=np.float64), 1e-12, 1.0 - 1e-12)
    margin = np.mean(np.log(stacked / (1.0 - stacked)), axis=0)
    return 1.0 / (1.0 + np.exp(-margin))
