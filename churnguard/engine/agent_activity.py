"""What the offers log says about the acting agent, read in the answer's first statement.

Two rules keep one agent (or one stolen token) from flooding the offers log or repeating an offer:
a recommend for a customer the same agent got an offer for less than `repeat_window_s` ago returns
that offer again (same offer id, `"repeated": true`) and writes nothing; and an agent who has added
`offers_per_minute` rows in the last 60 seconds is refused (HTTP 429, Retry-After) until the
oldest of them is a minute old. Both look-ups are scalar subqueries added to the statement the engine
sends first anyway (Engine.look_up's extra columns), on offers_log's (agent, created_at) index: they
cost no Data API call, and a repeated or refused answer costs one call instead of three (no
Comprehend call, no INSERT). The check and the INSERT are separate statements, so requests of one
agent racing each other within milliseconds can each pass it (docs/console.md says what that bounds).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from churnguard.errors import UserError

# An agent asking again for the customer on the line (a double click, a page reload, a retry after a
# timeout) within this many seconds gets the offer already made: one call, one offer.
REPEAT_WINDOW_S = 600
# Offers one agent may add to the log per minute. An agent on the phone makes one every few minutes;
# a back end answering for many agents under one IAM principal is one agent here (docs/console.md).
OFFERS_PER_MINUTE = 30
RATE_WINDOW_S = 60

REPEATED_COLUMN = "agent_repeated_offer"
RECENT_COUNT_COLUMN = "agent_offers_last_minute"
RETRY_AFTER_COLUMN = "agent_retry_after_s"

_RECENT = f"""FROM offers_log AS recent
  WHERE recent.agent = %(agent)s
    AND recent.created_at >= UTC_TIMESTAMP(6) - INTERVAL {RATE_WINDOW_S} SECOND"""


class AgentRateLimited(UserError):
    """The agent added `offers_per_minute` offers in the last minute; `retry_after_s` says when the
    oldest of them leaves the window."""

    def __init__(self, limit: int, retry_after_s: int) -> None:
        super().__init__(
            f"you have made {limit} offers in the last minute, the most one agent may make: nothing was "
            f"recorded; try again in {retry_after_s} s"
        )
        self.retry_after_s = retry_after_s


@dataclass(frozen=True)
class AgentLimits:
    """The repeat window and the per-agent cap an engine applies."""

    repeat_window_s: int = REPEAT_WINDOW_S
    offers_per_minute: int = OFFERS_PER_MINUTE

    def __post_init__(self) -> None:
        for name, value in (
            ("repeat_window_s", self.repeat_window_s),
            ("offers_per_minute", self.offers_per_minute),
        ):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise UserError(f"{name} must be a whole number of at least 1, not {value!r}")

    def columns(self) -> dict[str, str]:
        """The look-ups as extra columns (label: expression) on %(agent)s, %(area_code)s, %(phone)s.
        The windows are this object's checked integers, never text from a request."""
        repeated = f"""(
  SELECT JSON_OBJECT(
    'id', prior.id, 'created_at', LEFT(CAST(prior.created_at AS CHAR), 19),
    'sentiment', prior.sentiment, 'confidence', prior.confidence,
    'churn_probability', prior.churn_probability, 'degraded', prior.degraded, 'drivers', prior.drivers,
    'rules_version', prior.rules_version, 'rule_name', prior.rule_name, 'reason', prior.reason,
    'experiment', prior.experiment, 'arm', prior.arm, 'offer', prior.offer,
    'offer_cost_usd', prior.offer_cost_usd, 'call_reason', prior.call_reason
  )
  FROM offers_log AS prior
  WHERE prior.agent = %(agent)s AND prior.area_code = %(area_code)s AND prior.phone = %(phone)s
    AND prior.created_at >= UTC_TIMESTAMP(6) - INTERVAL {self.repeat_window_s} SECOND
  ORDER BY prior.created_at DESC, prior.id DESC
  LIMIT 1
)"""
        return {
            REPEATED_COLUMN: repeated,
            RECENT_COUNT_COLUMN: f"(SELECT COUNT(*) {_RECENT})",
            RETRY_AFTER_COLUMN: (
                f"(SELECT TIMESTAMPDIFF(SECOND, UTC_TIMESTAMP(6), MIN(recent.created_at) "
                f"+ INTERVAL {RATE_WINDOW_S} SECOND) {_RECENT})"
            ),
        }


@dataclass(frozen=True)
class AgentActivity:
    """The agent's offer for this customer within the repeat window (the stored row), if any, and
    how many offers they added in the last minute."""

    agent: str
    repeated: dict[str, Any] | None
    offers_last_minute: int
    retry_after_s: int

    @classmethod
    def from_extras(cls, agent: str, extras: dict[str, Any]) -> AgentActivity:
        """The activity from the look-up's extra columns (removed from `extras`)."""
        prior = extras.pop(REPEATED_COLUMN)
        retry_after = extras.pop(RETRY_AFTER_COLUMN)
        return cls(
            agent=agent,
            repeated=json.loads(prior) if prior else None,
            offers_last_minute=int(extras.pop(RECENT_COUNT_COLUMN) or 0),
            retry_after_s=max(1, int(retry_after) + 1) if retry_after is not None else 1,
        )

    def check_limit(self, limits: AgentLimits) -> None:
        """Refuse a new offer once the agent made `offers_per_minute` in the last minute."""
        if self.offers_last_minute >= limits.offers_per_minute:
            raise AgentRateLimited(limits.offers_per_minute, self.retry_after_s)
