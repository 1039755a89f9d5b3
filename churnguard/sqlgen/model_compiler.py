"""Compile an xgboost binary:logistic model (its JSON dump, model.json) into one SQL expression.

The expression is `1 / (1 + EXP(-(base_margin + tree_1 + ... + tree_n)))`, each tree nested IF()s
(churnguard.sqlgen.model_parts cuts it into functions when it is too long for one statement).
It must agree with xgboost to 1e-6, which takes care at the splits: xgboost tests
`float32(x) < t` with `t` a float32, while SQL compares the DOUBLE value x. We therefore compile each
threshold to the double boundary b at which float32 rounding of x flips to t (see `split_boundary`).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from churnguard.model_folder import model_id_of


class ModelCompileError(ValueError):
    """The model file is not a model this compiler can turn into SQL faithfully."""


@dataclass(frozen=True)
class Tree:
    """One regression tree in xgboost's array layout; a node is a leaf when its left child is -1."""

    left: tuple[int, ...]
    right: tuple[int, ...]
    feature: tuple[int, ...]
    threshold: tuple[float, ...]  # float32 split value, or the leaf value at a leaf
    default_left: tuple[bool, ...]


@dataclass(frozen=True)
class TreeModel:
    feature_names: tuple[str, ...] | None
    base_margin: float
    trees: tuple[Tree, ...]
    model_id: str  # the content hash of model.json (churnguard.lifecycle.identity)


def read_model(path: str | Path) -> TreeModel:
    """Read model.json, refusing what the compiler does not handle rather than scoring it wrongly."""
    try:
        model_bytes = Path(path).read_bytes()
        document = json.loads(model_bytes.decode("utf-8"))
        learner = document["learner"]
        objective = learner["objective"]["name"]
        booster = learner["gradient_booster"]
        params = learner["learner_model_param"]
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise ModelCompileError(f"{path}: not an xgboost JSON model ({error})") from None
    if objective != "binary:logistic":
        raise ModelCompileError(f"{path}: objective {objective!r}; only binary:logistic compiles to SQL")
    if booster.get("name") != "gbtree":
        raise ModelCompileError(f"{path}: booster {booster.get('name')!r}; only gbtree compiles to SQL")
    if int(params.get("num_class", "0")) > 1 or int(params.get("num_target", "1")) != 1:
        raise ModelCompileError(f"{path}: multi-class or multi-target models do not compile to SQL")
    trees = tuple(_read_tree(raw, path, number) for number, raw in enumerate(booster["model"]["trees"]))
    names = learner.get("feature_names") or None
    return TreeModel(
        feature_names=tuple(names) if names else None,
        base_margin=_base_margin(params["base_score"]),
        trees=trees,
        model_id=model_id_of(model_bytes),
    )


def _base_margin(stored: str) -> float:
    # xgboost 3 stores binary:logistic's base_score as a probability ("5E-1", or "[5E-1]" in newer
    # releases) and starts every prediction from its logit, computed in float32 like xgboost does.
    import numpy as np  # late: the recommend Lambda imports sqlgen (call-centre SQL) and has no numpy

    probability = float(np.float32(float(stored.strip("[]"))))
    if not 0.0 < probability < 1.0:
        raise ModelCompileError(f"base_score {stored} is not a probability strictly between 0 and 1")
    return float(np.float32(-math.log(1.0 / probability - 1.0)))


def _read_tree(raw: dict, path: str | Path, number: int) -> Tree:
    import numpy as np  # late, as in _base_margin

    if any(int(kind) != 0 for kind in raw.get("split_type", [])):
        raise ModelCompileError(f"{path}: tree {number} has categorical splits, which do not compile to SQL")
    return Tree(
        left=tuple(int(n) for n in raw["left_children"]),
        right=tuple(int(n) for n in raw["right_children"]),
        feature=tuple(int(n) for n in raw["split_indices"]),
        threshold=tuple(float(np.float32(value)) for value in raw["split_conditions"]),
        default_left=tuple(bool(flag) for flag in raw["default_left"]),
    )


def split_boundary(threshold: float) -> tuple[float, bool]:
    """The double b and whether the test is `x <= b` (True) or `x < b` (False) equal to float32(x) < t.

    float32(x) < t exactly when x rounds to a float32 at or below p, the float32 just under t; that
    holds for x under the midpoint b = (p + t) / 2 (exact in double), and at b itself when rounding
    half to even picks p, i.e. when t's mantissa is odd.
    """
    import numpy as np  # late, as in _base_margin

    t32 = np.float32(threshold)
    below = np.nextafter(t32, np.float32(-np.inf))
    boundary = (float(below) + float(t32)) / 2.0
    mantissa_is_odd = bool(int(t32.view(np.uint32)) & 1)
    return boundary, mantissa_is_odd


def double_literal(value: float) -> str:
    """A DOUBLE literal that parses back to exactly `value` on MySQL and MariaDB.

    The exponent matters: without it `161.6` is a DECIMAL literal and comparisons change type.
    """
    if not math.isfinite(value):
        raise ModelCompileError(f"cannot write {value} as a SQL number")
    return f"{value:.17e}"


def if_expression(test: str, left: str, right: str) -> str:
    # IF() rather than CASE: the same meaning, measurably cheaper per node on MariaDB.
    return f"IF({test}, {left}, {right})"


# How a split node is written from its test and its two subtrees' SQL (model_parts moves subtrees
# that make a tree too long into functions of their own here).
NodeWriter = Callable[[str, str, str], str]


def tree_expression(
    tree: Tree, feature_sql: Sequence[str], node: int = 0, *, write_node: NodeWriter = if_expression
) -> str:
    """One tree as nested IF() expressions over the feature expressions (indexed like the model)."""
    if tree.left[node] == -1:
        return double_literal(tree.threshold[node])
    try:
        value = feature_sql[tree.feature[node]]
    except IndexError:
        raise ModelCompileError(
            f"a split uses feature {tree.feature[node]} but the spec has {len(feature_sql)} features"
        ) from None
    boundary, inclusive = split_boundary(tree.threshold[node])
    test = f"{value} {'<=' if inclusive else '<'} {double_literal(boundary)}"
    if tree.default_left[node]:
        test = f"{test} OR {value} IS NULL"
    left = tree_expression(tree, feature_sql, tree.left[node], write_node=write_node)
    right = tree_expression(tree, feature_sql, tree.right[node], write_node=write_node)
    return write_node(test, left, right)


def margin_terms(model: TreeModel, feature_sql: Sequence[str]) -> list[str]:
    """The base margin and each tree: the terms whose sum is the model's margin (log-odds)."""
    return [double_literal(model.base_margin), *(tree_expression(tree, feature_sql) for tree in model.trees)]


# The most terms one flat sum holds. MariaDB nests `a + b + c ...` one item per term and checks its
# thread stack at each level: one bulk-scoring layer of about 600 split-less or one-split trees (the
# slow learners training keeps since issue 28) overran the default 299,008-byte stack ("Thread stack
# overrun", error 1436). Longer sums are written as sums of parenthesised groups of at most this many
# terms, so the nesting grows with the logarithm of the term count instead of the count.
FLAT_SUM_TERMS = 64


def sum_expression(terms: Sequence[str]) -> str:
    """`terms` added up, flat up to FLAT_SUM_TERMS terms, else as a sum of parenthesised group sums."""
    if len(terms) <= FLAT_SUM_TERMS:
        return "\n  + ".join(terms)
    groups = [terms[start : start + FLAT_SUM_TERMS] for start in range(0, len(terms), FLAT_SUM_TERMS)]
    return sum_expression([f"(\n  {sum_expression(group)}\n)" for group in groups])


def sigmoid_expression(margin: Sequence[str]) -> str:
    """sigmoid(sum of the margin terms) as SQL: the churn probability."""
    return f"1e0 / (1e0 + EXP(-(\n  {sum_expression(margin)}\n)))"


def probability_expression(model: TreeModel, feature_sql: Sequence[str]) -> str:
    """sigmoid(margin) as SQL: the model's churn probability for the given feature expressions."""
    return sigmoid_expression(margin_terms(model, feature_sql))
