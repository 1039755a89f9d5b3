"""Marketing's incentive rules: loaded from a versioned JSON file and checked before any customer sees them.

JSON, not YAML, because the recommend Lambda ships no YAML library. A mistake in the file (an unknown
key, a band with two bounds, a threshold that is not a number, an offer that does not exist) stops the
load with an error naming the rule and the field, instead of quietly giving the wrong offer later.
The file format is documented in docs/engine.md; churnguard/rules/default.json is the default.
When the database could give only the churn score or only the sentiment, `score_only_rules` or
`sentiment_only_rules` take the sentiment rules' place (see churnguard.engine.decide). `reason_rules`
come first of all: the call reason (churnguard.call_reason.labels) with optional conditions, like a
customer rule's; without a reason (Bedrock failed, or call reasons are off) they are skipped.

A churn-probability threshold may be the string "model_cutoff" instead of a number: the cut-off the
training run chose for the model the engine loaded (metadata.json "cutoff"), so offers follow the
model's economics and move with it when a retrained model is installed. Every threshold keeps where it
came from, so an answer can say which one applied.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from churnguard.call_reason.labels import LABELS as CALL_REASONS
from churnguard.customer_schema import COLUMN_NAMES, COLUMNS_BY_NAME, LABEL_COLUMN
from churnguard.errors import UserError

SENTIMENTS: tuple[str, ...] = ("POSITIVE", "NEGATIVE", "NEUTRAL", "MIXED")
# The value that stands for the model's cut-off wherever a churn-probability threshold is expected.
MODEL_CUTOFF = "model_cutoff"
# The pseudo-column customer rules test to compare the churn score (it is not in the customer table).
CHURN_PROBABILITY = "churn_probability"
CONDITION_OPERATORS: tuple[str, ...] = ("equals", "at_least", "above", "below", "at_most")
DEFAULT_RULES_RESOURCE = "default.json"
_TEXT_COLUMN_TYPES = frozenset({"text", "yes_no"})
# Rule, offer, experiment and arm names are logged and stored in offers_log's VARCHAR(64) columns.
MAX_NAME_CHARS = 64

_TOP_KEYS = {
    "version",
    "description",
    "offers",
    "reason_rules",
    "sentiment_rules",
    "score_only_rules",
    "sentiment_only_rules",
    "customer_rules",
    "otherwise",
}
_SCORE_ONLY_KEYS = {"rule", "risk_above", "risk_at_least", "offer"}
_SENTIMENT_ONLY_KEYS = {"rule", "sentiment", "confidence_above", "offer"}
_OFFER_KEYS = {"description", "cost_usd", "note"}
_SENTIMENT_RULE_KEYS = {"sentiment", "confidence_above", "risk_bands"}
_BAND_KEYS = {"rule", "risk_below", "risk_up_to", "offer", "experiment"}
_EXPERIMENT_KEYS = {"name", "seed", "arms"}
_ARM_KEYS = {"arm", "offer", "weight"}
_CUSTOMER_RULE_KEYS = {"rule", "when", "offer"}
_REASON_RULE_KEYS = {"rule", "call_reason", "when", "offer"}
_CONDITION_KEYS = {"column", *CONDITION_OPERATORS}
_OTHERWISE_KEYS = {"rule", "offer"}


class RulesError(UserError):
    """The rules file is malformed; the message names the file, the rule and the field."""


@dataclass(frozen=True)
class ModelCutoff:
    """The cut-off the model's training chose (metadata.json "cutoff") and the file it was read from."""

    value: float
    source: str


@dataclass(frozen=True)
class Threshold:
    """A churn-probability threshold: its value and where it came from (the rules file or the model)."""

    value: float
    source: str
    from_model: bool = False

    def words(self) -> str:
        """'0.8', or '0.11 (the model's cut-off)': the number the reason shows, with its origin."""
        return f"{self.value:g} (the model's cut-off)" if self.from_model else f"{self.value:g}"

    def to_json(self, comparison: str) -> dict[str, Any]:
        origin = (
            f"the model's cut-off, from {self.source}" if self.from_model else f"rules file {self.source}"
        )
        return {"comparison": comparison, "value": self.value, "source": origin}


@dataclass(frozen=True)
class Offer:
    key: str
    description: str
    cost_usd: float


@dataclass(frozen=True)
class ExperimentArm:
    name: str
    offer: str
    weight: float


@dataclass(frozen=True)
class Experiment:
    """A randomised choice between offers; each customer always lands in the same arm (see decide)."""

    name: str
    seed: int
    arms: tuple[ExperimentArm, ...]


@dataclass(frozen=True)
class RiskBand:
    """Churn probabilities up to a bound: `risk_below` (exclusive) or `risk_up_to` (inclusive).

    The last band of a sentiment rule has no bound: it takes every probability above the one before.
    Exactly one of `offer` and `experiment` is set.
    """

    rule: str
    risk_below: Threshold | None
    risk_up_to: Threshold | None
    offer: str | None
    experiment: Experiment | None

    def holds(self, churn_probability: float) -> bool:
        if self.risk_below is not None:
            return churn_probability < self.risk_below.value
        if self.risk_up_to is not None:
            return churn_probability <= self.risk_up_to.value
        return True

    @property
    def upper(self) -> tuple[str, Threshold] | None:
        """The band's upper bound as (comparison, threshold), or None for the open-ended last band."""
        if self.risk_below is not None:
            return "<", self.risk_below
        if self.risk_up_to is not None:
            return "<=", self.risk_up_to
        return None


@dataclass(frozen=True)
class SentimentRule:
    """Applies when the message's sentiment is `sentiment` with confidence strictly above the threshold."""

    sentiment: str
    confidence_above: float
    risk_bands: tuple[RiskBand, ...]


@dataclass(frozen=True)
class ScoreOnlyRule:
    """For an answer without sentiment: applies when the churn probability is strictly above
    `risk_above`, or at or above `risk_at_least` (`inclusive`)."""

    rule: str
    threshold: Threshold
    inclusive: bool
    offer: str

    def holds(self, churn_probability: float) -> bool:
        if self.inclusive:
            return churn_probability >= self.threshold.value
        return churn_probability > self.threshold.value

    @property
    def comparison(self) -> str:
        return ">=" if self.inclusive else ">"


@dataclass(frozen=True)
class SentimentOnlyRule:
    """For an answer without a churn score: applies when the sentiment matches with confidence
    strictly above `confidence_above`."""

    rule: str
    sentiment: str
    confidence_above: float
    offer: str


@dataclass(frozen=True)
class Condition:
    """One test on a customer column, e.g. cust_service_calls at_least 4, or int_plan equals "no".

    The column `churn_probability` is the customer's churn score; its value is a Threshold (a number
    or the model's cut-off), and the test does not hold when the score is unknown (a degraded answer).
    """

    column: str
    operator: str
    value: float | str | Threshold

    def holds(self, customer: Mapping[str, Any]) -> bool:
        actual = customer.get(self.column)
        if actual is None:
            return False
        if isinstance(self.value, Threshold):
            number, threshold = float(actual), self.value.value
        elif self.operator == "equals":
            if isinstance(self.value, str):
                return str(actual) == self.value
            return float(actual) == self.value
        else:
            number, threshold = float(actual), float(self.value)
        if self.operator == "equals":
            return number == threshold
        if self.operator == "at_least":
            return number >= threshold
        if self.operator == "above":
            return number > threshold
        if self.operator == "below":
            return number < threshold
        return number <= threshold


@dataclass(frozen=True)
class CustomerRule:
    """Applies when every condition holds; tried only when no sentiment rule applied."""

    rule: str
    conditions: tuple[Condition, ...]
    offer: str


@dataclass(frozen=True)
class ReasonRule:
    """Applies when the call reason is `call_reason` and every condition holds (none: always);
    tried before any other rule."""

    rule: str
    call_reason: str
    conditions: tuple[Condition, ...]
    offer: str


@dataclass(frozen=True)
class Rules:
    version: str
    source: str
    offers: dict[str, Offer]
    sentiment_rules: tuple[SentimentRule, ...]
    customer_rules: tuple[CustomerRule, ...]
    otherwise_rule: str
    otherwise_offer: str
    score_only_rules: tuple[ScoreOnlyRule, ...] = ()
    sentiment_only_rules: tuple[SentimentOnlyRule, ...] = ()
    reason_rules: tuple[ReasonRule, ...] = ()
    # The model's cut-off when the file refers to it ("model_cutoff"), else None.
    model_cutoff: ModelCutoff | None = None

    def rule_names(self) -> list[str]:
        names = [band.rule for rule in self.sentiment_rules for band in rule.risk_bands]
        return [
            *(rule.rule for rule in self.reason_rules),
            *names,
            *(rule.rule for rule in self.score_only_rules),
            *(rule.rule for rule in self.sentiment_only_rules),
            *(rule.rule for rule in self.customer_rules),
            self.otherwise_rule,
        ]


def load_rules(path: str | Path | None = None, *, model_cutoff: ModelCutoff | None = None) -> Rules:
    """Read and validate a rules file; without a path, the default rules shipped with churnguard.

    `model_cutoff` is what "model_cutoff" thresholds stand for; a file that uses them cannot be
    loaded without it (the engine reads it from the model's metadata.json).
    """
    if path is None:
        text = (
            resources.files("churnguard.rules").joinpath(DEFAULT_RULES_RESOURCE).read_text(encoding="utf-8")
        )
        source = f"churnguard/rules/{DEFAULT_RULES_RESOURCE}"
    else:
        source = str(path)
        try:
            text = Path(path).read_text(encoding="utf-8")
        except FileNotFoundError:
            raise RulesError(f"rules file {source}: no such file") from None
        except (OSError, UnicodeDecodeError) as problem:
            raise RulesError(f"rules file {source}: cannot read it ({problem})") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as problem:
        raise RulesError(
            f"rules file {source}: not valid JSON at line {problem.lineno} column {problem.colno}: "
            f"{problem.msg}"
        ) from None
    return parse_rules(data, source=source, model_cutoff=model_cutoff)


def parse_rules(data: Any, *, source: str = "<rules>", model_cutoff: ModelCutoff | None = None) -> Rules:
    """Validate already-parsed rules; every error names `source`, the rule and the field."""
    return _RulesParser(source, model_cutoff).parse(data)


class _RulesParser:
    """Walks the JSON once, keeping track of where it is, so each error can say exactly where."""

    def __init__(self, source: str, model_cutoff: ModelCutoff | None) -> None:
        self.source = source
        self.model_cutoff = model_cutoff
        self.used_model_cutoff = False
        self.rule_names: set[str] = set()

    def fail(self, where: str, problem: str) -> RulesError:
        return RulesError(f"rules file {self.source}: {where}: {problem}")

    def parse(self, data: Any) -> Rules:
        where = "top level"
        self.check_keys(data, where, allowed=_TOP_KEYS, required={"version", "offers", "otherwise"})
        version = data["version"]
        if isinstance(version, bool) or not isinstance(version, str | int) or not str(version).strip():
            raise self.fail(where, "field 'version' must be a non-empty string (e.g. \"2026-11-23.1\")")
        offers = self.parse_offers(data["offers"])
        reason_rules = tuple(
            self.parse_reason_rule(item, position, offers)
            for position, item in enumerate(self.list_field(data, "reason_rules", where))
        )
        sentiment_rules = tuple(
            self.parse_sentiment_rule(item, position, offers)
            for position, item in enumerate(self.list_field(data, "sentiment_rules", where))
        )
        seen_sentiments: set[str] = set()
        for position, rule in enumerate(sentiment_rules):
            if rule.sentiment in seen_sentiments:
                raise self.fail(
                    f"sentiment_rules[{position}] ({rule.sentiment})",
                    "field 'sentiment' overlaps an earlier sentiment rule for the same sentiment",
                )
            seen_sentiments.add(rule.sentiment)
        score_only_rules = tuple(
            self.parse_score_only_rule(item, position, offers)
            for position, item in enumerate(self.list_field(data, "score_only_rules", where))
        )
        sentiment_only_rules = tuple(
            self.parse_sentiment_only_rule(item, position, offers)
            for position, item in enumerate(self.list_field(data, "sentiment_only_rules", where))
        )
        customer_rules = tuple(
            self.parse_customer_rule(item, position, offers)
            for position, item in enumerate(self.list_field(data, "customer_rules", where))
        )
        otherwise = data["otherwise"]
        self.check_keys(otherwise, "otherwise", allowed=_OTHERWISE_KEYS, required=_OTHERWISE_KEYS)
        otherwise_rule = self.rule_name(otherwise, "otherwise")
        return Rules(
            version=str(version).strip(),
            source=self.source,
            offers=offers,
            sentiment_rules=sentiment_rules,
            customer_rules=customer_rules,
            otherwise_rule=otherwise_rule,
            otherwise_offer=self.offer_ref(otherwise, f"otherwise ({otherwise_rule})", offers),
            score_only_rules=score_only_rules,
            sentiment_only_rules=sentiment_only_rules,
            reason_rules=reason_rules,
            model_cutoff=self.model_cutoff if self.used_model_cutoff else None,
        )

    def check_keys(self, data: Any, where: str, *, allowed: set[str], required: set[str]) -> None:
        if not isinstance(data, dict):
            raise self.fail(where, f"expected a JSON object, found {type(data).__name__}")
        unknown = sorted(set(data) - allowed)
        if unknown:
            raise self.fail(where, f"unknown field {unknown[0]!r} (allowed: {', '.join(sorted(allowed))})")
        missing = sorted(required - set(data))
        if missing:
            raise self.fail(where, f"missing field {missing[0]!r}")

    def list_field(self, data: dict[str, Any], key: str, where: str) -> list[Any]:
        value = data.get(key, [])
        if not isinstance(value, list):
            raise self.fail(where, f"field {key!r} must be a list")
        return value

    def number(self, data: dict[str, Any], key: str, where: str, *, low: float, high: float) -> float:
        """A JSON number within [low, high]; booleans and strings are refused, not coerced."""
        value = data[key]
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.fail(where, f"field {key!r} must be a number, found {json.dumps(value)}")
        if not low <= value <= high:
            raise self.fail(where, f"field {key!r} is {value}, outside {low}..{high}")
        return float(value)

    def threshold(self, data: dict[str, Any], key: str, where: str) -> Threshold:
        """A churn-probability threshold: a number in 0..1, or "model_cutoff" for the model's cut-off."""
        if data[key] == MODEL_CUTOFF:
            if self.model_cutoff is None:
                raise self.fail(
                    where,
                    f"field {key!r} is {MODEL_CUTOFF!r}, but no model cut-off was given: load these rules "
                    "with a trained model (its metadata.json holds the cut-off)",
                )
            self.used_model_cutoff = True
            return Threshold(self.model_cutoff.value, self.model_cutoff.source, from_model=True)
        if isinstance(data[key], str):
            raise self.fail(
                where, f"field {key!r} must be a number or {MODEL_CUTOFF!r}, found {json.dumps(data[key])}"
            )
        return Threshold(self.number(data, key, where, low=0.0, high=1.0), self.source)

    def identifier(self, data: dict[str, Any], key: str, where: str) -> str:
        """A name field (rule, experiment, arm): letters, digits and _, at most 64 characters."""
        name = data[key]
        if not isinstance(name, str) or not name.isidentifier() or len(name) > MAX_NAME_CHARS:
            raise self.fail(
                where, f"field {key!r} must be letters, digits and _ (<= {MAX_NAME_CHARS}), found {name!r}"
            )
        return name

    def rule_name(self, data: dict[str, Any], where: str) -> str:
        name = self.identifier(data, "rule", where)
        if name in self.rule_names:
            raise self.fail(where, f"field 'rule': the name {name!r} is used twice")
        self.rule_names.add(name)
        return name

    def offer_ref(self, data: dict[str, Any], where: str, offers: Mapping[str, Offer]) -> str:
        offer = data["offer"]
        if offer not in offers:
            raise self.fail(where, f"field 'offer': {offer!r} is not one of the offers ({', '.join(offers)})")
        return str(offer)

    def parse_offers(self, data: Any) -> dict[str, Offer]:
        if not isinstance(data, dict) or not data:
            raise self.fail("offers", "expected a non-empty JSON object of offer name to offer")
        offers: dict[str, Offer] = {}
        for key, item in data.items():
            where = f"offers.{key}"
            if not key.isidentifier() or len(key) > MAX_NAME_CHARS:
                raise self.fail(
                    where, f"an offer name must be letters, digits and _ (<= {MAX_NAME_CHARS} characters)"
                )
            self.check_keys(item, where, allowed=_OFFER_KEYS, required={"description", "cost_usd"})
            if not isinstance(item["description"], str) or not item["description"].strip():
                raise self.fail(where, "field 'description' must be a non-empty string")
            cost = self.number(item, "cost_usd", where, low=0.0, high=1_000_000.0)
            offers[key] = Offer(key=key, description=item["description"].strip(), cost_usd=cost)
        return offers

    def sentiment_threshold(self, data: dict[str, Any], where: str) -> tuple[str, float, str]:
        """The `sentiment` and `confidence_above` fields of a rule, and `where` with the sentiment."""
        sentiment = data["sentiment"]
        if sentiment not in SENTIMENTS:
            raise self.fail(
                where, f"field 'sentiment' must be one of {', '.join(SENTIMENTS)}, found {sentiment!r}"
            )
        where = f"{where} ({sentiment})"
        confidence = self.number(data, "confidence_above", where, low=0.0, high=1.0)
        if confidence >= 1.0:
            raise self.fail(
                where, "field 'confidence_above' is 1: no confidence is above it, the rule never applies"
            )
        return sentiment, confidence, where

    def parse_score_only_rule(self, data: Any, position: int, offers: Mapping[str, Offer]) -> ScoreOnlyRule:
        where = f"score_only_rules[{position}]"
        self.check_keys(data, where, allowed=_SCORE_ONLY_KEYS, required={"rule", "offer"})
        rule = self.rule_name(data, where)
        where = f"{where} ({rule})"
        bounds = [key for key in ("risk_above", "risk_at_least") if key in data]
        if len(bounds) != 1:
            raise self.fail(where, "give exactly one of the fields 'risk_above' and 'risk_at_least'")
        threshold = self.threshold(data, bounds[0], where)
        if bounds[0] == "risk_above" and threshold.value >= 1.0:
            raise self.fail(where, "field 'risk_above' is 1: no churn probability is above it")
        return ScoreOnlyRule(
            rule=rule,
            threshold=threshold,
            inclusive=bounds[0] == "risk_at_least",
            offer=self.offer_ref(data, where, offers),
        )

    def parse_sentiment_only_rule(
        self, data: Any, position: int, offers: Mapping[str, Offer]
    ) -> SentimentOnlyRule:
        where = f"sentiment_only_rules[{position}]"
        self.check_keys(data, where, allowed=_SENTIMENT_ONLY_KEYS, required=_SENTIMENT_ONLY_KEYS)
        rule = self.rule_name(data, where)
        sentiment, confidence, where = self.sentiment_threshold(data, f"{where} ({rule})")
        return SentimentOnlyRule(
            rule=rule,
            sentiment=sentiment,
            confidence_above=confidence,
            offer=self.offer_ref(data, where, offers),
        )

    def parse_sentiment_rule(self, data: Any, position: int, offers: Mapping[str, Offer]) -> SentimentRule:
        where = f"sentiment_rules[{position}]"
        self.check_keys(data, where, allowed=_SENTIMENT_RULE_KEYS, required=_SENTIMENT_RULE_KEYS)
        sentiment, confidence, where = self.sentiment_threshold(data, where)
        bands_data = data["risk_bands"]
        if not isinstance(bands_data, list) or not bands_data:
            raise self.fail(where, "field 'risk_bands' must be a non-empty list")
        bands = [
            self.parse_band(item, f"{where} risk_bands[{index}]", offers)
            for index, item in enumerate(bands_data)
        ]
        self.check_bands_partition(bands, where)
        return SentimentRule(sentiment=sentiment, confidence_above=confidence, risk_bands=tuple(bands))

    def parse_band(self, data: Any, where: str, offers: Mapping[str, Offer]) -> RiskBand:
        self.check_keys(data, where, allowed=_BAND_KEYS, required={"rule"})
        rule = self.rule_name(data, where)
        where = f"{where} ({rule})"
        if "risk_below" in data and "risk_up_to" in data:
            raise self.fail(where, "fields 'risk_below' and 'risk_up_to' overlap: give one upper bound")
        bounds = {
            key: self.threshold(data, key, where) for key in ("risk_below", "risk_up_to") if key in data
        }
        if ("offer" in data) == ("experiment" in data):
            raise self.fail(where, "give exactly one of the fields 'offer' and 'experiment'")
        return RiskBand(
            rule=rule,
            risk_below=bounds.get("risk_below"),
            risk_up_to=bounds.get("risk_up_to"),
            offer=self.offer_ref(data, where, offers) if "offer" in data else None,
            experiment=self.parse_experiment(data["experiment"], where, offers)
            if "experiment" in data
            else None,
        )

    def check_bands_partition(self, bands: Sequence[RiskBand], where: str) -> None:
        """Bands must cover 0..1 without gaps or overlaps: ascending bounds, only the last one open.

        The first band whose bound holds applies. When the model's cut-off is one of the bounds, a
        band it leaves empty (a fixed bound at or below the cut-off, e.g. "up to 0.8" after "below the
        cut-off" with a cut-off of 0.85) is accepted and simply never applies: the cut-off wins, and a
        retrained model cannot make the shipped rules unloadable.
        """
        previous = Threshold(0.0, self.source)
        for band in bands[:-1]:
            bound = band.risk_below if band.risk_below is not None else band.risk_up_to
            field = "risk_below" if band.risk_below is not None else "risk_up_to"
            if bound is None:
                raise self.fail(
                    f"{where} band {band.rule}",
                    "missing field 'risk_below' or 'risk_up_to': only the last band may be open-ended",
                )
            if bound.value <= previous.value:
                if bound.from_model or previous.from_model:
                    continue
                raise self.fail(
                    f"{where} band {band.rule}",
                    f"field {field!r} is {bound.value:g}: bounds must increase band by band "
                    f"(previous {previous.value:g})",
                )
            if bound.value >= 1.0 and field == "risk_up_to":
                raise self.fail(
                    f"{where} band {band.rule}", f"field {field!r} is 1: the bands after it never apply"
                )
            previous = bound
        last = bands[-1]
        if last.risk_below is not None or last.risk_up_to is not None:
            raise self.fail(
                f"{where} band {last.rule}",
                "the last band must have no upper bound, so every churn probability falls in some band",
            )

    def parse_experiment(self, data: Any, where: str, offers: Mapping[str, Offer]) -> Experiment:
        where = f"{where} experiment"
        self.check_keys(data, where, allowed=_EXPERIMENT_KEYS, required=_EXPERIMENT_KEYS)
        name = self.identifier(data, "name", where)
        seed = data["seed"]
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise self.fail(f"{where} ({name})", f"field 'seed' must be an integer, found {json.dumps(seed)}")
        arms_data = data["arms"]
        if not isinstance(arms_data, list) or len(arms_data) < 2:
            raise self.fail(f"{where} ({name})", "field 'arms' must list at least two arms")
        arms: list[ExperimentArm] = []
        for index, item in enumerate(arms_data):
            arm_where = f"{where} ({name}) arms[{index}]"
            self.check_keys(item, arm_where, allowed=_ARM_KEYS, required=_ARM_KEYS)
            arm_name = self.identifier(item, "arm", arm_where)
            if any(arm.name == arm_name for arm in arms):
                raise self.fail(arm_where, f"field 'arm': {arm_name!r} is used twice")
            weight = self.number(item, "weight", arm_where, low=0.0, high=1_000_000.0)
            if weight <= 0:
                raise self.fail(arm_where, "field 'weight' must be above 0")
            arms.append(
                ExperimentArm(name=arm_name, offer=self.offer_ref(item, arm_where, offers), weight=weight)
            )
        return Experiment(name=name, seed=seed, arms=tuple(arms))

    def parse_customer_rule(self, data: Any, position: int, offers: Mapping[str, Offer]) -> CustomerRule:
        where = f"customer_rules[{position}]"
        self.check_keys(data, where, allowed=_CUSTOMER_RULE_KEYS, required=_CUSTOMER_RULE_KEYS)
        rule = self.rule_name(data, where)
        where = f"{where} ({rule})"
        conditions = self.conditions(data["when"], where)
        return CustomerRule(rule=rule, conditions=conditions, offer=self.offer_ref(data, where, offers))

    def parse_reason_rule(self, data: Any, position: int, offers: Mapping[str, Offer]) -> ReasonRule:
        where = f"reason_rules[{position}]"
        self.check_keys(data, where, allowed=_REASON_RULE_KEYS, required={"rule", "call_reason", "offer"})
        rule = self.rule_name(data, where)
        where = f"{where} ({rule})"
        reason = data["call_reason"]
        if reason not in CALL_REASONS:
            raise self.fail(
                where, f"field 'call_reason' must be one of {', '.join(CALL_REASONS)}, found {reason!r}"
            )
        conditions = self.conditions(data["when"], where) if "when" in data else ()
        return ReasonRule(
            rule=rule, call_reason=reason, conditions=conditions, offer=self.offer_ref(data, where, offers)
        )

    def conditions(self, data: Any, where: str) -> tuple[Condition, ...]:
        if not isinstance(data, list) or not data:
            raise self.fail(where, "field 'when' must be a non-empty list of conditions")
        return tuple(self.parse_condition(item, f"{where} when[{index}]") for index, item in enumerate(data))

    def parse_condition(self, data: Any, where: str) -> Condition:
        self.check_keys(data, where, allowed=_CONDITION_KEYS, required={"column"})
        column = data["column"]
        if column not in COLUMN_NAMES and column != CHURN_PROBABILITY:
            raise self.fail(
                where, f"field 'column': {column!r} is not a customer column (nor {CHURN_PROBABILITY!r})"
            )
        if column == LABEL_COLUMN:
            raise self.fail(
                where, f"field 'column': {column!r} is the label (did they leave), unknown during a call"
            )
        operators = [key for key in CONDITION_OPERATORS if key in data]
        if len(operators) != 1:
            found = " and ".join(repr(key) for key in operators) or "none"
            raise self.fail(
                f"{where} ({column})",
                f"give exactly one of the fields {', '.join(CONDITION_OPERATORS)} (found {found})",
            )
        operator = operators[0]
        value = data[operator]
        if column == CHURN_PROBABILITY:
            if operator == "equals":
                raise self.fail(
                    f"{where} ({column})", "compare the churn probability with a bound, not 'equals'"
                )
            return Condition(column=column, operator=operator, value=self.threshold(data, operator, where))
        if COLUMNS_BY_NAME[column].type in _TEXT_COLUMN_TYPES:
            # Text columns (state, phone, yes/no plans) are only compared for equality, with text.
            if operator != "equals" or not isinstance(value, str):
                raise self.fail(
                    f"{where} ({column})",
                    f"{column!r} holds text: test it with 'equals' and a string, not {operator!r} "
                    f"{json.dumps(value)}",
                )
            return Condition(column=column, operator=operator, value=value)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.fail(
                f"{where} ({column})", f"field {operator!r} must be a number, found {json.dumps(value)}"
            )
        return Condition(column=column, operator=operator, value=float(value))
