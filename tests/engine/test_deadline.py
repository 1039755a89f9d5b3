"""The answer's time budget: where it comes from, what is refused, and how a deadline bounds a wait."""

from __future__ import annotations

import pytest

from churnguard.engine.deadline import (
    ANSWER_TIMEOUT_ENV,
    DEFAULT_ANSWER_TIMEOUT_S,
    DatabaseTimeout,
    Deadline,
    answer_timeout,
)
from churnguard.errors import UserError


def test_the_option_wins_then_the_environment_then_five_seconds():
    assert answer_timeout(2.5, {ANSWER_TIMEOUT_ENV: "9"}) == 2.5
    assert answer_timeout(None, {ANSWER_TIMEOUT_ENV: "9"}) == 9.0
    assert answer_timeout(None, {}) == DEFAULT_ANSWER_TIMEOUT_S == 5.0


@pytest.mark.parametrize(
    ("explicit", "environ", "message"),
    [
        (0.0, {}, "--timeout must be between 0.1 and 60 seconds, got 0"),
        (61.0, {}, "--timeout must be between 0.1 and 60 seconds, got 61"),
        (float("nan"), {}, "--timeout must be between 0.1 and 60 seconds"),
        (
            None,
            {ANSWER_TIMEOUT_ENV: "5s"},
            "$CHURNGUARD_ANSWER_TIMEOUT_S must be a number of seconds, got '5s'",
        ),
        (None, {ANSWER_TIMEOUT_ENV: "-1"}, "$CHURNGUARD_ANSWER_TIMEOUT_S must be between 0.1 and 60"),
    ],
)
def test_a_budget_that_is_no_budget_is_refused_naming_where_it_came_from(explicit, environ, message):
    with pytest.raises(UserError) as raised:
        answer_timeout(explicit, environ)
    assert message in str(raised.value)


def test_a_wait_is_cut_to_what_is_left_and_refused_once_nothing_is():
    deadline = Deadline.after(10)
    assert 9 < deadline.wait_limit(None) <= 10
    assert deadline.wait_limit(2) == 2
    with pytest.raises(DatabaseTimeout, match="did not answer within 0 s; nothing was recorded"):
        Deadline.after(0).wait_limit(2)
