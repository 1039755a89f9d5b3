"""From a customer's message to an offer: the engine behind `churnguard recommend` and the recommend API.

One call: check the input, ask the database for the customer and the churn probability, then for the
message's sentiment, confidence and call reason (separate statements with bound parameters, so a
failing SageMaker endpoint or Comprehend call loses only its own part; call_reason answers NULL when
Bedrock fails, losing only the reason), apply the rules to what is there,
explain the score with the customer's top churn drivers and write the answer to the offers log with
one INSERT that commits as it runs. An answer is returned only once its row is committed; a failure
before that leaves no row. Only an unknown customer, or neither part available, is an error: with one part
missing the answer is degraded, says what is missing and why, and is logged as degraded.
Imports only the standard library and churnguard's pure-Python modules: it runs in Lambda.
"""

from __future__ import annotations

import json
import logging
import math
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from churnguard.call_reason.labels import CALL_REASONS_ENV, checked_label
from churnguard.drivers import DEFAULT_TOP_DRIVERS, DriverExplainer
from churnguard.engine.agent_activity import AgentActivity, AgentLimits
from churnguard.engine.decide import decide
from churnguard.engine.economics import ModelEconomics, economics_of
from churnguard.engine.failures import error_code, failure_kind
from churnguard.engine.offers_log import OfferRecord, insert_offer, validate_agent
from churnguard.engine.request import COMPREHEND_MAX_BYTES, CallRequest
from churnguard.engine.rules import SENTIMENTS, Rules, load_rules
from churnguard.errors import UserError
from churnguard.model_folder import ModelFolder
from churnguard.sql_client import Row, SqlClient
from churnguard.sqlgen.statements import (
    CALL_REASON_COLUMN,
    customer_from_row,
    customer_score_sql,
    customer_sql,
    message_sql,
)

LOG = logging.getLogger(__name__)

# Above this gap between the database's churn probability and the one the drivers' trees give, the
# model bundle that explains the score is not the model that made it: the answer says so.
SCORE_MISMATCH_TOLERANCE = 0.01
SCORE = "churn_probability"
SENTIMENT = "sentiment"
CALL_REASON = CALL_REASON_COLUMN
# What the agent is told each missing part means for the answer.
_WITHOUT = {
    SCORE: "no churn score: the churn model (called by the database) {why}; the offer is based on "
    "the message's sentiment and the customer's record only",
    SENTIMENT: "no sentiment: the sentiment service (Amazon Comprehend, called by the database) {why}; "
    "the offer is based on the churn score and the customer's record only: judge the customer's "
    "mood yourself",
    CALL_REASON: "no call reason: the reason classifier (Amazon Bedrock, called by the database) {why}; "
    "the offer is made without the call-reason rules: ask the customer why they are calling",
}


class UnknownCustomerError(UserError):
    """No customer has the given area code and phone number."""


class ScoringError(UserError):
    """The database answered, but with neither a usable score nor a usable sentiment, or with more
    than one customer for the key: no answer can be made (nothing is recorded)."""


class RecordUnconfirmed(UserError):
    """The connection failed or the deadline passed while the answer's row was being written: it may
    or may not be in the log. The answer is not shown (an offer is made only once its row is known to
    be committed); the agent is told to look at the customer's recent offers before trying again."""

    def __init__(self, code: str) -> None:
        super().__init__(
            f"the database did not confirm that the answer was recorded ({code} while writing it): "
            "no offer to make; it may still appear among the customer's recent offers, so check them "
            "before trying again"
        )


@dataclass(frozen=True)
class MissingPart:
    """A part of the answer the database could not give: which, why (for the agent), and the error code."""

    part: str
    reason: str
    code: str

    def to_json(self) -> dict[str, str]:
        return {"part": self.part, "reason": self.reason}


@dataclass(frozen=True)
class LookedUp:
    """What the answer's first statement gave: the customer's row, the churn probability or why it is
    missing, the values of the caller's extra columns, and what the acting agent did lately."""

    row: Row
    probability: float | None
    missing: MissingPart | None
    extras: Row
    activity: AgentActivity


@dataclass(frozen=True)
class Engine:
    """Everything an answer needs that does not change between calls, loaded once per process."""

    rules: Rules
    explainer: DriverExplainer
    top_drivers: int = DEFAULT_TOP_DRIVERS
    # The model's cut-off and cost assumptions (metadata.json); "model_cutoff" in the rules is its cut-off.
    economics: ModelEconomics | None = None
    # Whether the deploy classifies why the customer calls (call_reason); False: not asked, not missing.
    call_reasons: bool = True
    # The repeat window and the per-agent cap on offers (churnguard.engine.agent_activity).
    limits: AgentLimits = field(default_factory=AgentLimits)

    @classmethod
    def load(
        cls,
        model_dir: str | Path,
        *,
        rules_path: str | Path | None = None,
        top_drivers: int = DEFAULT_TOP_DRIVERS,
        call_reasons: bool | None = None,
    ) -> Engine:
        """The engine for a trained model folder (metadata.json + model.json) and a rules file
        (default: churnguard/rules/default.json). The statement is rendered from the model's own
        feature spec, so it always calls will_churn with the features in the model's order; the rules'
        "model_cutoff" is the cut-off in the same metadata.json. `call_reasons` defaults to
        $CHURNGUARD_CALL_REASONS not being "off" (the deploy sets it on the Lambdas).
        """
        folder = ModelFolder.read(model_dir)
        try:
            explainer = DriverExplainer.from_folder(folder)
        except (ValueError, KeyError, OSError) as problem:  # model.json's trees: ModelFileError
            raise UserError(f"cannot use the model in {model_dir}: {problem}") from None
        economics = economics_of(folder)
        return cls(
            rules=load_rules(rules_path, model_cutoff=economics.model_cutoff),
            explainer=explainer,
            top_drivers=top_drivers,
            economics=economics,
            call_reasons=(
                os.environ.get(CALL_REASONS_ENV, "bedrock") != "off" if call_reasons is None else call_reasons
            ),
        )

    def recommend(
        self, client: SqlClient, request: CallRequest, *, agent: str, looked_up: LookedUp | None = None
    ) -> dict[str, Any]:
        """The answer for one validated request, recorded in the offers log as made by `agent` (an
        identity the caller established, never one a request named); see docs/engine.md.
        `looked_up`: the request's customer as `look_up` gave it already for the same agent (the
        console reads its own columns in the same statement), else it is looked up here. The agent's
        offer for this customer within the repeat window is returned again instead of a new one; an
        agent over the per-minute cap gets AgentRateLimited."""
        started = time.perf_counter()
        validate_agent(agent)
        if looked_up is None:
            looked_up = self.look_up(client, request.area_code, request.phone, agent=agent)
        if looked_up.activity.agent != agent:
            raise ValueError("looked_up was read for another agent")
        if looked_up.activity.repeated is not None:
            return self._repeated_answer(looked_up.activity.repeated, looked_up, request)
        looked_up.activity.check_limit(self.limits)
        row, probability, missing_score = looked_up.row, looked_up.probability, looked_up.missing
        sentiment, confidence, call_reason, missing_sentiment, missing_reason = self._message(client, request)
        missing = [part for part in (missing_score, missing_sentiment, missing_reason) if part is not None]
        if missing_score is not None and missing_sentiment is not None:
            raise ScoringError(
                "neither the churn score nor the sentiment is available ("
                + "; ".join(f"{part.part}: {part.code}" for part in (missing_score, missing_sentiment))
                + "): is the model endpoint or Comprehend reachable from the database? Nothing was recorded"
            )
        decision = decide(
            self.rules,
            sentiment=sentiment,
            confidence=confidence,
            churn_probability=probability,
            customer=row,
            call_reason=call_reason,
        )
        top_drivers, explained = self.explainer.explain(row, top=self.top_drivers)
        drivers = [driver.to_json() for driver in top_drivers]
        record = OfferRecord(
            agent=agent,
            area_code=int(row["area_code"]),
            phone=str(row["phone"]),
            sentiment=sentiment,
            confidence=confidence,
            churn_probability=probability,
            drivers=drivers,
            rules_version=self.rules.version,
            rule_name=decision.rule,
            reason=decision.reason,
            experiment=decision.experiment,
            arm=decision.arm,
            offer=decision.offer.key,
            offer_cost_usd=decision.offer.cost_usd,
            call_reason=call_reason,
            call_reason_missing=missing_reason is not None,
        )
        offer_id = record_answer(client, record)
        notes = []
        if request.message_truncated:
            notes.append(
                f"message was {request.original_message_bytes} bytes of UTF-8; only the first "
                f"{COMPREHEND_MAX_BYTES} bytes (whole characters) were read for sentiment"
            )
        if probability is not None and abs(explained - probability) > SCORE_MISMATCH_TOLERANCE:
            notes.append(
                f"the drivers come from a model that scores this customer {explained:.3f}, not "
                f"{probability:.3f}: the deployed model and the bundled model.json differ"
            )
        LOG.info(
            "offer %s: rule=%s offer=%s arm=%s missing=%s in %.0f ms",
            offer_id,
            decision.rule,
            decision.offer.key,
            decision.arm,
            ",".join(f"{part.part}({part.code})" for part in missing) or "none",
            (time.perf_counter() - started) * 1000,
        )
        return {
            "offer": decision.offer.key,
            "offer_description": decision.offer.description,
            "offer_cost_usd": decision.offer.cost_usd,
            "rule": decision.rule,
            "reason": decision.reason,
            "thresholds": decision.thresholds_json(),
            "churn_probability": probability,
            "sentiment": sentiment,
            "confidence": confidence,
            "call_reason": call_reason,
            "degraded": bool(missing),
            "missing": [part.to_json() for part in missing],
            "drivers": drivers,
            "arm": decision.arm,
            "experiment": decision.experiment,
            "rules_version": self.rules.version,
            "offer_id": offer_id,
            "area_code": int(row["area_code"]),
            "message_truncated": request.message_truncated,
            "notes": notes,
            "repeated": False,
        }

    def _repeated_answer(
        self, prior: dict[str, Any], looked_up: LookedUp, request: CallRequest
    ) -> dict[str, Any]:
        """The offer the agent made this customer within the repeat window, as it was recorded: same
        offer id, `"repeated": true`, nothing written. The rules' thresholds are not stored with an
        offer, so `thresholds` is empty; the call reason is the one recorded with it (migration 0002); a
        part missing then is missing now."""
        offer = self.rules.offers.get(str(prior["offer"]))
        drivers = prior["drivers"]
        probability = None if prior["churn_probability"] is None else float(prior["churn_probability"])
        sentiment = prior["sentiment"]
        call_reason = checked_label(prior.get("call_reason")) if self.call_reasons else None
        asked = (
            (SCORE, probability),
            (SENTIMENT, sentiment),
            *(((CALL_REASON, call_reason),) if self.call_reasons else ()),
        )
        missing = [
            MissingPart(part, _WITHOUT[part].format(why="gave nothing when this offer was made"), "repeated")
            for part, value in asked
            if value is None
        ]
        minutes = self.limits.repeat_window_s // 60
        LOG.info("offer %s repeated for its agent: nothing recorded", prior["id"])
        return {
            "offer": prior["offer"],
            "offer_description": offer.description if offer is not None else str(prior["offer"]),
            "offer_cost_usd": float(prior["offer_cost_usd"]),
            "rule": prior["rule_name"],
            "reason": prior["reason"],
            "thresholds": [],
            "churn_probability": probability,
            "sentiment": sentiment,
            "confidence": None if prior["confidence"] is None else float(prior["confidence"]),
            "call_reason": call_reason,
            "degraded": bool(missing),
            "missing": [part.to_json() for part in missing],
            "drivers": json.loads(drivers) if isinstance(drivers, str) else drivers,
            "arm": prior["arm"],
            "experiment": prior["experiment"],
            "rules_version": prior["rules_version"],
            "offer_id": int(prior["id"]),
            "area_code": int(looked_up.row["area_code"]),
            "message_truncated": request.message_truncated,
            "notes": [
                f"repeated: you made this customer offer {prior['id']} at {prior['created_at']} UTC, less "
                f"than {minutes} minutes ago; this is that offer again, not a new one"
            ],
            "repeated": True,
        }

    def look_up(
        self,
        client: SqlClient,
        area_code: int,
        phone: str,
        extra_columns: Mapping[str, str] | None = None,
        *,
        agent: str,
    ) -> LookedUp:
        """The customer's row and churn probability in one statement; when will_churn fails, the row
        alone (a second). `extra_columns` (label: SQL expression, which may use the key's
        %(area_code)s and %(phone)s) come back in `extras`, and `agent`'s recent offers
        (churnguard.engine.agent_activity) in `activity`: what a caller needs about the customer
        and the agent costs no Data API call of its own."""
        extra = {**(extra_columns or {}), **self.limits.columns()}
        selected = [f"{expression} AS {label}" for label, expression in extra.items()]
        key = {"area_code": area_code, "phone": phone, "agent": validate_agent(agent)}
        score_sql = customer_score_sql(self.explainer.spec, selected)
        missing = None
        try:
            rows = client.query(score_sql, key)
        except Exception as error:
            if failure_kind(error) != "statement":
                raise
            missing = _missing(SCORE, f"failed ({error_code(error)})", error_code(error))
            rows = client.query(customer_sql(selected), key)
        if not rows:
            raise UnknownCustomerError(f"no customer with area code {area_code} and that phone number")
        if len(rows) > 1:
            raise ScoringError(f"{len(rows)} customers share area code {area_code} and that phone")
        found = dict(rows[0])
        extras = {label: found.pop(label) for label in extra}
        activity = AgentActivity.from_extras(agent, extras)
        row = customer_from_row(found)
        if missing is not None:
            return LookedUp(row, None, missing, extras, activity)
        probability = _probability(row.get(SCORE))
        if probability is None:
            missing = _missing(SCORE, f"returned {_shown(row.get(SCORE))}", "no usable value")
        return LookedUp(row, probability, missing, extras, activity)

    def _message(
        self, client: SqlClient, request: CallRequest
    ) -> tuple[str | None, float | None, str | None, MissingPart | None, MissingPart | None]:
        """The message's sentiment, confidence and call reason, in one statement, and what kept the
        database from giving each (the reason: None and not missing when call reasons are off)."""
        try:
            (row,) = client.query(message_sql(call_reason=self.call_reasons), {"message": request.message})
        except Exception as error:
            if failure_kind(error) != "statement":
                raise
            code = error_code(error)
            shared = f"could not answer: the statement it shares with the sentiment failed ({code})"
            no_reason = _missing(CALL_REASON, shared, code) if self.call_reasons else None
            return None, None, None, _missing(SENTIMENT, f"failed ({code})", code), no_reason
        sentiment, confidence, missing_sentiment = self._sentiment(row)
        call_reason, missing_reason = self._call_reason(row)
        return sentiment, confidence, call_reason, missing_sentiment, missing_reason

    def _call_reason(self, row: Row) -> tuple[str | None, MissingPart | None]:
        if not self.call_reasons:
            return None, None
        call_reason = checked_label(row.get(CALL_REASON))
        if call_reason is None:
            return None, _missing(CALL_REASON, f"returned {_shown(row.get(CALL_REASON))}", "no usable value")
        return call_reason, None

    @staticmethod
    def _sentiment(row: Row) -> tuple[str | None, float | None, MissingPart | None]:
        """The sentiment and confidence in the message statement's row, or why they are not usable."""
        sentiment = str(row[SENTIMENT]).strip().upper() if row.get(SENTIMENT) is not None else None
        confidence = _probability(row.get("confidence"))
        if sentiment not in SENTIMENTS or confidence is None:
            label, score = row.get(SENTIMENT), row.get("confidence")
            shown = "nothing" if label is None and score is None else f"{_shown(label)} ({_shown(score)})"
            return None, None, _missing(SENTIMENT, f"returned {shown}", "no usable value")
        return sentiment, confidence, None


def record_answer(client: SqlClient, record: OfferRecord) -> int:
    """Write the answer's row and return its id, or raise: the caller shows the answer only after
    this returns, so an answer shown is in the log exactly once.

    One INSERT, committed as it runs, whose reply carries the id (SqlClient.insert_returning_id): one
    call in doubt. When the connection fails or the deadline passes while it is under way, the row may
    or may not be there, and RecordUnconfirmed says so; the database refusing it leaves no row.
    """
    try:
        return insert_offer(client, record)
    except Exception as error:
        if failure_kind(error) in ("connection", "timeout"):
            raise RecordUnconfirmed(error_code(error)) from error
        raise


def _missing(part: str, why: str, code: str) -> MissingPart:
    LOG.warning("answer degraded: no %s (%s)", part, code)
    return MissingPart(part=part, reason=_WITHOUT[part].format(why=why), code=code)


def _shown(value: Any) -> str:
    """A returned value as the agent may see it: short, and no message text can be in a score."""
    return "nothing" if value is None else repr(value)[:40]


# The customer's most recent message on file (customer_messages), an expression on the key's
# parameters: alone (latest_message) or as one of the console's extra columns (Engine.look_up).
LATEST_MESSAGE_COLUMN = """(
  SELECT m.message FROM customer_messages AS m
  WHERE m.area_code = %(area_code)s AND m.phone = %(phone)s
  ORDER BY m.received_at DESC, m.id DESC
  LIMIT 1
)"""
LATEST_MESSAGE_SQL = f"SELECT {LATEST_MESSAGE_COLUMN} AS message"


def latest_message(client: SqlClient, *, area_code: int, phone: str) -> str | None:
    """The customer's most recent message on file (customer_messages), or None when there is none."""
    rows = client.query(LATEST_MESSAGE_SQL, {"area_code": area_code, "phone": phone})
    message = rows[0]["message"]
    return None if message is None else str(message)


def _probability(value: Any) -> float | None:
    """A number in [0, 1] from the database, or None for anything else (NULL, text, out of range)."""
    try:
        number = float(value) if isinstance(value, int | float | Decimal | str) else math.nan
    except ValueError:
        number = math.nan
    return number if 0.0 <= number <= 1.0 else None
