"""From a customer's message to an offer: the engine behind `churnguard recommend` and the recommend API.

One call: check the input, run the call-centre statement (customer, churn probability, sentiment,
confidence) with bound parameters, apply the rules, explain the score with the customer's top churn
drivers and write the answer to the offers log, all in one transaction, so a failure anywhere leaves
no row behind. Imports only the standard library and churnguard's pure-Python modules: it runs in Lambda.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from churnguard.drivers import DEFAULT_TOP_DRIVERS, DriverExplainer
from churnguard.engine.decide import decide
from churnguard.engine.offers_log import OfferRecord, insert_offer
from churnguard.engine.request import COMPREHEND_MAX_BYTES, CallRequest
from churnguard.engine.rules import Rules, load_rules
from churnguard.errors import UserError
from churnguard.sql_client import SqlClient
from churnguard.sqlgen.statements import call_centre_sql

LOG = logging.getLogger(__name__)

# Above this gap between the database's churn probability and the one the drivers' trees give, the
# model bundle that explains the score is not the model that made it: the answer says so.
SCORE_MISMATCH_TOLERANCE = 0.01


class UnknownCustomerError(UserError):
    """No customer has the given area code and phone number."""


class ScoringError(UserError):
    """The database answered, but without a usable score or sentiment (nothing is recorded)."""


@dataclass(frozen=True)
class Engine:
    """Everything an answer needs that does not change between calls, loaded once per process."""

    rules: Rules
    explainer: DriverExplainer
    call_centre_sql: str
    top_drivers: int = DEFAULT_TOP_DRIVERS

    @classmethod
    def load(
        cls,
        model_dir: str | Path,
        *,
        rules_path: str | Path | None = None,
        top_drivers: int = DEFAULT_TOP_DRIVERS,
    ) -> Engine:
        """The engine for a trained model folder (metadata.json + model.json) and a rules file
        (default: churnguard/rules/default.json). The statement is rendered from the model's own
        feature spec, so it always calls will_churn with the features in the model's order.
        """
        try:
            explainer = DriverExplainer.from_model_dir(model_dir)
        except (ValueError, KeyError, OSError) as problem:  # ModelFileError, FeatureSpecError, bad JSON
            raise UserError(f"cannot use the model in {model_dir}: {problem}") from None
        return cls(
            rules=load_rules(rules_path),
            explainer=explainer,
            call_centre_sql=call_centre_sql(explainer.spec),
            top_drivers=top_drivers,
        )

    def recommend(self, client: SqlClient, request: CallRequest) -> dict[str, Any]:
        """The answer for one validated request, recorded in the offers log; see docs/engine.md."""
        started = time.perf_counter()
        params = {"area_code": request.area_code, "phone": request.phone, "message": request.message}
        with client.transaction():
            rows = client.query(self.call_centre_sql, params)
            if not rows:
                raise UnknownCustomerError(
                    f"no customer with area code {request.area_code} and that phone number"
                )
            if len(rows) > 1:
                raise ScoringError(
                    f"{len(rows)} customers share area code {request.area_code} and that phone"
                )
            row = rows[0]
            scores = _scores(row)
            decision = decide(self.rules, customer=row, **scores)
            top_drivers, explained = self.explainer.explain(row, top=self.top_drivers)
            drivers = [driver.to_json() for driver in top_drivers]
            offer_id = insert_offer(
                client,
                OfferRecord(
                    area_code=int(row["area_code"]),
                    phone=str(row["phone"]),
                    sentiment=scores["sentiment"],
                    confidence=scores["confidence"],
                    churn_probability=scores["churn_probability"],
                    drivers=drivers,
                    rules_version=self.rules.version,
                    rule_name=decision.rule,
                    reason=decision.reason,
                    experiment=decision.experiment,
                    arm=decision.arm,
                    offer=decision.offer.key,
                    offer_cost_usd=decision.offer.cost_usd,
                ),
            )
        notes = []
        if request.message_truncated:
            notes.append(
                f"message was {request.original_message_bytes} bytes of UTF-8; only the first "
                f"{COMPREHEND_MAX_BYTES} bytes (whole characters) were read for sentiment"
            )
        if abs(explained - scores["churn_probability"]) > SCORE_MISMATCH_TOLERANCE:
            notes.append(
                f"the drivers come from a model that scores this customer {explained:.3f}, not "
                f"{scores['churn_probability']:.3f}: the deployed model and the bundled model.json differ"
            )
        LOG.info(
            "offer %s: rule=%s offer=%s arm=%s churn_probability=%.3f sentiment=%s in %.0f ms",
            offer_id,
            decision.rule,
            decision.offer.key,
            decision.arm,
            scores["churn_probability"],
            scores["sentiment"],
            (time.perf_counter() - started) * 1000,
        )
        return {
            "offer": decision.offer.key,
            "offer_description": decision.offer.description,
            "offer_cost_usd": decision.offer.cost_usd,
            "rule": decision.rule,
            "reason": decision.reason,
            "churn_probability": scores["churn_probability"],
            "sentiment": scores["sentiment"],
            "confidence": scores["confidence"],
            "drivers": drivers,
            "arm": decision.arm,
            "experiment": decision.experiment,
            "rules_version": self.rules.version,
            "offer_id": offer_id,
            "area_code": int(row["area_code"]),
            "message_truncated": request.message_truncated,
            "notes": notes,
        }


LATEST_MESSAGE_SQL = """
SELECT message FROM customer_messages
WHERE area_code = %(area_code)s AND phone = %(phone)s
ORDER BY received_at DESC, id DESC
LIMIT 1
"""


def latest_message(client: SqlClient, *, area_code: int, phone: str) -> str | None:
    """The customer's most recent message on file (customer_messages), or None when there is none."""
    rows = client.query(LATEST_MESSAGE_SQL, {"area_code": area_code, "phone": phone})
    return str(rows[0]["message"]) if rows else None


def _scores(row: dict[str, Any]) -> dict[str, Any]:
    """churn_probability, sentiment and confidence from the statement's row, checked for sense."""
    missing = [key for key in ("churn_probability", "sentiment", "confidence") if row.get(key) is None]
    if missing:
        raise ScoringError(
            f"the call-centre statement returned no {' or '.join(missing)} (is the model endpoint or "
            "Comprehend reachable from the database?); nothing was recorded"
        )
    probability = _probability(row["churn_probability"], "churn_probability")
    confidence = _probability(row["confidence"], "confidence")
    sentiment = str(row["sentiment"]).strip().upper()
    return {"churn_probability": probability, "sentiment": sentiment, "confidence": confidence}


def _probability(value: Any, name: str) -> float:
    try:
        number = float(value) if isinstance(value, int | float | Decimal | str) else math.nan
    except ValueError:
        number = math.nan
    if not 0.0 <= number <= 1.0:
        raise ScoringError(f"the call-centre statement returned {name} {value!r}, not a probability")
    return number
