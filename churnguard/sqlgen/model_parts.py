"""The compiled model cut into functions, so that no statement is longer than the RDS Data API takes.

Compiled whole, a 300-tree depth-6 model is a CREATE FUNCTION of about 323,000 characters, and the
Data API takes at most 65,536 in one call (churnguard.bootstrap.apply.MAX_STATEMENT_CHARS). When the
margin sum does not fit in `budget` characters, it is cut up:
- a tree longer than the budget on its own has its longest subtrees moved into part functions,
  bottom-up, until it fits (a full tree of depth 9 is about 58,000 characters, of depth 10, the
  hyper-parameter search's deepest, about 116,000);
- the trees, in order, are packed into part functions each summing a run of them within the budget;
- when the calls to those parts do not fit either, the calls are packed the same way (a sum of sums).
Every part takes will_churn's parameters in will_churn's order, and the terms are written over the
bare feature names, so one text serves will_churn's body (where the names are its parameters) and
the bulk-scoring view's layers (where they are feature columns: churnguard.sqlgen.statements).
Parts are named after the model id (churnguard.bootstrap.replaced_parts.part_name): rendering a
model again gives the same names, and installing another drops the previous model's parts.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from churnguard.bootstrap.apply import MAX_STATEMENT_CHARS
from churnguard.bootstrap.replaced_parts import part_name
from churnguard.sqlgen.model_compiler import (
    ModelCompileError,
    NodeWriter,
    TreeModel,
    double_literal,
    if_expression,
    margin_terms,
    sum_expression,
    tree_expression,
)

# The longest statement the split writes: 5,536 characters (8%) under the Data API's limit, kept
# in reserve for a server that counts a non-ASCII feature name in bytes rather than characters.
STATEMENT_BUDGET = MAX_STATEMENT_CHARS - 5_536


@dataclass(frozen=True)
class ModelPart:
    """One part function: `name(<will_churn's parameters>)` returns `expression`."""

    name: str
    expression: str


@dataclass(frozen=True)
class SplitModel:
    """A compiled model as will_churn and the bulk-scoring view write it.

    `terms`: will_churn's margin terms, the base margin then the trees (whole model) or calls to
    parts. `parts`: the part functions in the order they must be created (a part only calls parts
    before it). `tree_sums`: the trees packed in order into sums that each fit the budget, which the
    bulk-scoring view computes inline, one layer each (empty when the model is whole).
    """

    model_id: str
    base: str
    terms: tuple[str, ...]
    parts: tuple[ModelPart, ...] = ()
    tree_sums: tuple[str, ...] = ()


def split_model(model: TreeModel, feature_sql: Sequence[str], *, budget: int) -> SplitModel:
    """`model`'s margin terms over `feature_sql` (the quoted feature names), cut so that the sum of
    the terms and every part's expression is at most `budget` characters; not cut when it fits."""
    base = double_literal(model.base_margin)
    whole = margin_terms(model, feature_sql)
    if len(sum_expression(whole)) <= budget:
        return SplitModel(model.model_id, base, tuple(whole))
    arguments = ", ".join(feature_sql)
    if 4 * len(f"{part_name(model.model_id, 999)}({arguments})") > budget:
        raise ModelCompileError(
            f"with {len(feature_sql)} features a call to a part function is longer than a quarter of "
            f"the {budget:,}-character budget, so the model cannot be cut into statements that fit"
        )
    parts: list[ModelPart] = []

    def new_part(expression: str) -> str:
        part = ModelPart(part_name(model.model_id, len(parts) + 1), expression)
        parts.append(part)
        return f"{part.name}({arguments})"

    write_node = _outlining_writer(budget, new_part)
    trees = [tree_expression(tree, feature_sql, write_node=write_node) for tree in model.trees]
    # The base margin is added in will_churn's sum and in the view's first layer: the rest is theirs.
    after_base = budget - len(sum_expression([base, ""]))
    tree_sums = [sum_expression(run) for run in _runs(trees, after_base)]
    terms = _packed([new_part(tree_sum) for tree_sum in tree_sums], after_base, new_part)
    return SplitModel(model.model_id, base, (base, *terms), tuple(parts), tuple(tree_sums))


def _outlining_writer(budget: int, new_part: Callable[[str], str]) -> NodeWriter:
    """A node writer that moves the node's longer subtree, then if needed the other, into a part
    when the node would be longer than `budget`. Subtrees are written first, so each already fits,
    and a node of two calls is far shorter than the budget (split_model checks a call's length)."""

    def write_node(test: str, left: str, right: str) -> str:
        subtrees = [left, right]
        for side in sorted((0, 1), key=lambda index: len(subtrees[index]), reverse=True):
            if len(if_expression(test, *subtrees)) <= budget:
                break
            subtrees[side] = new_part(subtrees[side])
        return if_expression(test, *subtrees)

    return write_node


def _runs(terms: list[str], budget: int) -> list[list[str]]:
    """`terms` in order, cut into runs whose sum fits `budget` (a longer term is a run alone)."""
    runs: list[list[str]] = [[]]
    for term in terms:
        if runs[-1] and len(sum_expression([*runs[-1], term])) > budget:
            runs.append([])
        runs[-1].append(term)
    return runs


def _packed(calls: list[str], budget: int, new_part: Callable[[str], str]) -> list[str]:
    """`calls` packed into calls to parts each summing a run of them, until they fit in `budget`.
    A call is at most a quarter of the budget, so each round packs at least four into a part."""
    while len(sum_expression(calls)) > budget:
        calls = [new_part(sum_expression(run)) for run in _runs(calls, budget)]
    return calls
