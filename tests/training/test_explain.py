"""Explanations: importance for every used feature, tree depths, first splits."""

from __future__ import annotations

from pathlib import Path

import xgboost as xgb

from churnguard.feature_spec import FeatureSpec
from churnguard.model_folder import ModelFolder
from training import explain
from training.artifacts import load_model_tarball


def _model(trained_model_dir: Path) -> tuple[xgb.Booster, FeatureSpec]:
    spec = ModelFolder.read(trained_model_dir).feature_spec
    return load_model_tarball(trained_model_dir / "model.tar.gz"), spec


def test_importance_lists_every_feature_with_gain_for_the_used_ones(trained_model_dir: Path) -> None:
    booster, spec = _model(trained_model_dir)
    rows = explain.feature_importance(booster, spec.names)
    assert sorted(row["feature"] for row in rows) == sorted(spec.names)
    used = explain.used_features(booster)
    assert all((row["splits"] > 0) == (row["feature"] in used) for row in rows)
    gains = [row["gain"] for row in rows]
    assert gains == sorted(gains, reverse=True)


def test_tree_depths_count_every_tree_and_first_splits_name_features(trained_model_dir: Path) -> None:
    booster, spec = _model(trained_model_dir)
    depths = explain.tree_depths(booster)
    assert sum(depths.values()) == booster.num_boosted_rounds()
    splits = explain.first_tree_splits(booster)
    assert splits[0]["level"] == 0 and all(split["feature"] in spec.names for split in splits)
