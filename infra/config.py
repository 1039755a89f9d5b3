"""The stack's options: read from CDK context (cdk.json defaults, `-c key=value` overrides) and validated.

Every option is checked before a single construct is built, so a typo such as `-c stage=production`
stops synthesis with one sentence naming the option and its allowed values instead of a jsii trace.
Every problem is reported at once (two bad values, two sentences), and an option name the stack does
not know (`-c netwrok=isolated`) is refused with the list of known ones rather than ignored. Context
values arrive as strings from the command line and as JSON values from cdk.json; both are accepted.
The same checks run in every command that takes the deploy's `-c` options (preflight, verify, teardown).
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from churnguard.errors import UserError
from churnguard.sqlgen.call_reason import CALL_REASON_MODES, DEFAULT_CALL_REASON_MODEL

REPO_ROOT = Path(__file__).resolve().parent.parent

STAGES = ("dev", "prod")
NETWORKS = ("isolated", "nat")
CAPACITIES = ("serverless", "provisioned")
INFERENCE_MODES = ("endpoint", "in_database")
ENDPOINT_MODES = ("serverless", "realtime")
BOOLEANS = ("true", "false")
# A Bedrock foundation model id (provider.model:version). Cross-region inference profiles (us., eu.,
# apac., global. before the provider) are refused: the Aurora role's policy names the model in the
# stack's own region only (docs/infra.md, "Call reasons").
_FOUNDATION_MODEL_ID = re.compile(
    r"^(?!(?:us|eu|apac|global|us-gov|jp|au|ca)\.)[a-z0-9-]+\.[a-z0-9.-]+:[0-9]{1,3}$"
)

# Aurora Serverless v2 limits: capacity moves in 0.5 ACU steps up to 256 ACU; auto-pause needs
# min 0 and an idle time between 5 minutes and 24 hours.
MAX_ACU_LIMIT = 256.0
AUTO_PAUSE_MINUTES_RANGE = (5, 1440)
# SageMaker serverless inference limits.
ENDPOINT_MEMORY_MB_CHOICES = (1024, 2048, 3072, 4096, 5120, 6144)
ENDPOINT_MAX_CONCURRENCY_RANGE = (1, 200)
BACKUP_RETENTION_DAYS_RANGE = (1, 35)
SEED_ROWS_RANGE = (10, 5000)

_INSTANCE_CLASS = re.compile(r"^[a-z][a-z0-9-]*\.[0-9]*x?[a-z0-9]+$")
_ENDPOINT_INSTANCE_TYPE = re.compile(r"^ml\.[a-z][a-z0-9-]*\.[0-9]*x?[a-z0-9]+$")
# An Availability Zone name such as us-east-1a or eu-central-1b (not a Local Zone or a zone id).
_AVAILABILITY_ZONE = re.compile(r"^[a-z]{2}(?:-[a-z]+)+-[0-9]+[a-z]$")
# A KMS key ARN (not an alias or a bare key id): an IAM statement's Resource must name the key itself.
_KMS_KEY_ARN = re.compile(r"^arn:aws[a-z-]*:kms:[a-z]{2}(?:-[a-z]+)+-[0-9]+:[0-9]{12}:key/[A-Za-z0-9-]+$")
# An Aurora MySQL version 3 engine version (MySQL 8.0 compatible), e.g. 8.0.mysql_aurora.3.10.4; the
# bootstrap SQL and the cluster parameters are written and tested for version 3 only. A fourth number
# is a beta release (AWS page "Long-term support (LTS) and beta releases for Amazon Aurora MySQL").
# AWS, "Using Amazon Aurora machine learning with Aurora MySQL": Amazon Bedrock is available to Aurora
# MySQL from version 3.06 (AWS_BEDROCK_ACCESS, the aws_default_bedrock_role parameter, the alias).
BEDROCK_MIN_AURORA_MINOR = 6
_ENGINE_VERSION = re.compile(r"^8\.0\.mysql_aurora\.3\.[0-9]{2}\.[0-9]+(?:\.[0-9]+)?$")
# Context keys the CDK CLI and its feature flags own (`aws:cdk:...`, `@aws-cdk/...`, lookup caches such
# as `availability-zones:account=...`, and the two plain keys the CLI writes into cdk.context.json
# itself): never one of our options, never refused.
_CDK_OWN_KEY = re.compile(r"[:@/]")
_CDK_PLAIN_KEYS = frozenset({"acknowledged-issue-numbers", "cli-telemetry"})

# The defaults cdk.json also states; repeated here so a missing cdk.json entry still synthesizes.
DEFAULTS: dict[str, Any] = {
    "stage": "dev",
    # The Aurora MySQL 3.10 long-term-support release (docs/infra.md, "Engine version").
    "engine_version": "8.0.mysql_aurora.3.10.4",
    "network": "nat",
    "capacity": "serverless",
    "instance_class": "r6g.large",
    "min_acu": 0,
    "max_acu": 4,
    "auto_pause_minutes": 10,
    "inference_mode": "endpoint",
    "endpoint_mode": "serverless",
    "endpoint_instance_type": "ml.m5.large",
    "endpoint_memory_mb": 2048,
    "endpoint_max_concurrency": 5,
    "model_dir": "artifacts/model",
    "seed_sample_data": False,
    "seed_rows": 200,
    "backup_retention_days": 7,
    "availability_zones": "",
    "console": False,
    "sagemaker_training": False,
    "asset_key_arn": "",
    "call_reasons": "bedrock",
    "call_reason_model": DEFAULT_CALL_REASON_MODEL,
}


# Options the commands that take the deploy's `-c` options read, though the stack does not: verify and
# preflight ask AWS in this region (the stack itself deploys wherever the CLI's credentials point).
COMMAND_OPTIONS = ("region",)


class OptionError(UserError):
    """A context option has a value the stack cannot be built with (or is not an option at all)."""


@dataclass(frozen=True)
class StackOptions:
    """The validated options, typed, one field per context key (see docs/infra.md)."""

    stage: str
    network: str
    capacity: str
    engine_version: str
    instance_class: str
    min_acu: float
    max_acu: float
    auto_pause_minutes: int
    inference_mode: str
    endpoint_mode: str
    endpoint_instance_type: str
    endpoint_memory_mb: int
    endpoint_max_concurrency: int
    model_dir: Path
    seed_sample_data: bool
    seed_rows: int
    backup_retention_days: int
    availability_zones: tuple[str, ...] = ()
    console: bool = False  # the agent console (infra/console.py, docs/console.md)
    # A SageMaker training role and key for `churnguard train --sagemaker` (infra/training_role.py).
    sagemaker_training: bool = False
    # The customer managed key of the CDK bootstrap's asset bucket, when it was bootstrapped with
    # --bootstrap-kms-key-id: the roles that read assets get kms:Decrypt on it (docs/infra.md).
    asset_key_arn: str = ""
    # Why the customer calls, from SQL: Amazon Bedrock ("bedrock") or not asked ("off"), and the model.
    call_reasons: str = "bedrock"
    call_reason_model: str = DEFAULT_CALL_REASON_MODEL

    @property
    def has_call_reasons(self) -> bool:
        return self.call_reasons == "bedrock"

    @property
    def is_prod(self) -> bool:
        return self.stage == "prod"

    @property
    def has_endpoint(self) -> bool:
        """A SageMaker endpoint exists only when the database asks SageMaker for scores."""
        return self.inference_mode == "endpoint"

    @property
    def stack_name(self) -> str:
        return f"churnguard-{self.stage}"

    @property
    def endpoint_name(self) -> str:
        """A fixed name: the SQL rendered at synth time (will_churn's ALIAS) must spell it."""
        return f"churnguard-{self.stage}-churn"


def known_options() -> tuple[str, ...]:
    """Every option name a user may pass with `-c`, sorted."""
    return tuple(sorted((*DEFAULTS, *COMMAND_OPTIONS)))


def is_cdk_key(key: str) -> bool:
    """True for context keys the CDK CLI or its feature flags set, which are not ours to judge."""
    return key in _CDK_PLAIN_KEYS or bool(_CDK_OWN_KEY.search(key))


def unknown_option_problems(keys: Sequence[str]) -> list[str]:
    """One sentence per key that is neither an option nor CDK's own, with a close match when there is one."""
    known = known_options()
    problems = []
    for key in keys:
        if key in known or is_cdk_key(key):
            continue
        close = difflib.get_close_matches(key, known, n=1)
        hint = f" (did you mean {close[0]}?)" if close else ""
        problems.append(f"unknown option {key!r}{hint}; known options: {', '.join(known)}")
    return problems


def parse_context_pairs(pairs: Sequence[str]) -> dict[str, str]:
    """`-c KEY=VALUE` arguments as a dict, refusing a malformed one by name."""
    context: dict[str, str] = {}
    for pair in pairs:
        key, separator, value = pair.partition("=")
        if not separator or not key.strip():
            raise OptionError(f"-c {pair!r} is not KEY=VALUE (e.g. -c stage=prod)")
        context[key.strip()] = value.strip()
    return context


def cdk_json_context(repo_root: Path = REPO_ROOT) -> dict[str, Any]:
    """cdk.json's context (the project's defaults, perhaps edited), or nothing without a cdk.json."""
    path = repo_root / "cdk.json"
    if not path.is_file():
        return {}
    return dict(json.loads(path.read_text(encoding="utf-8")).get("context", {}))


def validated_context(
    pairs: Sequence[str], *, repo_root: Path = REPO_ROOT
) -> tuple[StackOptions, dict[str, str]]:
    """A command's `-c KEY=VALUE` arguments checked exactly as the CDK app checks them (over cdk.json's
    context): the options, and the pairs as given. Raises OptionError naming every problem."""
    given = parse_context_pairs(pairs)
    return options_from_context({**cdk_json_context(repo_root), **given}, repo_root=repo_root), given


def options_from_context(context: Mapping[str, Any], *, repo_root: Path = REPO_ROOT) -> StackOptions:
    """Read and validate every option from the app's whole context (`app.node.get_all_context()`):
    unknown option names and bad values are all reported in one OptionError."""
    raw = {key: DEFAULTS[key] if context.get(key) is None else context[key] for key in DEFAULTS}
    return validate_options(raw, repo_root=repo_root, unknown=unknown_option_problems(list(context)))


def validate_options(
    raw: Mapping[str, Any], *, repo_root: Path = REPO_ROOT, unknown: Sequence[str] = ()
) -> StackOptions:
    """Turn raw context values into StackOptions, or raise OptionError naming every bad option
    (`unknown`: sentences about unknown option names, reported first)."""
    check = _Checks(raw, list(unknown))
    min_acu = check(_number, "min_acu", low=0.0, high=MAX_ACU_LIMIT, step=0.5)
    max_acu = check(_number, "max_acu", low=1.0, high=MAX_ACU_LIMIT, step=0.5)
    if min_acu is not None and max_acu is not None and min_acu > max_acu:
        check.problems.append(f"option min_acu ({min_acu:g}) must not exceed max_acu ({max_acu:g})")
    model_dir = Path(str(raw["model_dir"]))
    fields = {
        "stage": check(_choice, "stage", STAGES),
        "network": check(_choice, "network", NETWORKS),
        "capacity": check(_choice, "capacity", CAPACITIES),
        "engine_version": check(
            _pattern,
            "engine_version",
            _ENGINE_VERSION,
            "an Aurora MySQL 3 version such as 8.0.mysql_aurora.3.10.4",
        ),
        "instance_class": check(_pattern, "instance_class", _INSTANCE_CLASS, "a class such as r6g.large"),
        "min_acu": min_acu,
        "max_acu": max_acu,
        "auto_pause_minutes": check(_integer, "auto_pause_minutes", *AUTO_PAUSE_MINUTES_RANGE),
        "inference_mode": check(_choice, "inference_mode", INFERENCE_MODES),
        "endpoint_mode": check(_choice, "endpoint_mode", ENDPOINT_MODES),
        "endpoint_instance_type": check(
            _pattern,
            "endpoint_instance_type",
            _ENDPOINT_INSTANCE_TYPE,
            "a SageMaker type such as ml.m5.large",
        ),
        "endpoint_memory_mb": check(_integer_choice, "endpoint_memory_mb", ENDPOINT_MEMORY_MB_CHOICES),
        "endpoint_max_concurrency": check(
            _integer, "endpoint_max_concurrency", *ENDPOINT_MAX_CONCURRENCY_RANGE
        ),
        "model_dir": model_dir if model_dir.is_absolute() else repo_root / model_dir,
        "seed_sample_data": check(_boolean, "seed_sample_data"),
        "seed_rows": check(_integer, "seed_rows", *SEED_ROWS_RANGE),
        "backup_retention_days": check(_integer, "backup_retention_days", *BACKUP_RETENTION_DAYS_RANGE),
        "availability_zones": check(_zones, "availability_zones"),
        "console": check(_boolean, "console"),
        "sagemaker_training": check(_boolean, "sagemaker_training"),
        "asset_key_arn": check(
            _optional_pattern,
            "asset_key_arn",
            _KMS_KEY_ARN,
            "a KMS key ARN such as arn:aws:kms:REGION:ACCOUNT:key/ID",
        ),
        "call_reasons": check(_choice, "call_reasons", CALL_REASON_MODES),
        "call_reason_model": check(
            _pattern,
            "call_reason_model",
            _FOUNDATION_MODEL_ID,
            f"a Bedrock foundation model id such as {DEFAULT_CALL_REASON_MODEL} (not an inference profile)",
        ),
    }
    if fields["call_reasons"] == "bedrock" and fields["engine_version"]:
        minor = _aurora_minor(fields["engine_version"])
        if minor < BEDROCK_MIN_AURORA_MINOR:
            check.problems.append(
                f"option call_reasons=bedrock needs Aurora MySQL 3.{BEDROCK_MIN_AURORA_MINOR:02d} or later "
                f"(engine_version {fields['engine_version']} is 3.{minor:02d}): Aurora calls Amazon Bedrock "
                "from 3.06 on; pass a newer engine_version or -c call_reasons=off"
            )
    if check.problems:
        raise OptionError(_joined(check.problems))
    return StackOptions(**fields)


def _aurora_minor(engine_version: str) -> int:
    """3.10 for 8.0.mysql_aurora.3.10.4: the release line that decides which Aurora ML services exist."""
    return int(engine_version.split("mysql_aurora.3.")[1].split(".")[0])


class _Checks:
    """Runs each option's check, keeping its problem instead of stopping at the first one."""

    def __init__(self, raw: Mapping[str, Any], problems: list[str]) -> None:
        self.raw = raw
        self.problems = problems

    def __call__(self, check: Callable[..., Any], key: str, *args: Any, **kwargs: Any) -> Any:
        try:
            return check(self.raw, key, *args, **kwargs)
        except OptionError as problem:
            self.problems.append(str(problem))
            return None


def _joined(problems: Sequence[str]) -> str:
    """One problem as its own sentence; several as a count and one indented line each."""
    if len(problems) == 1:
        return problems[0]
    return f"{len(problems)} problems with the options:\n" + "\n".join(f"  {problem}" for problem in problems)


def _choice(raw: Mapping[str, Any], key: str, allowed: tuple[str, ...]) -> str:
    value = str(raw[key]).strip().lower()
    if value not in allowed:
        raise OptionError(f"option {key}={raw[key]!r} is not allowed; use one of: {', '.join(allowed)}")
    return value


def _zones(raw: Mapping[str, Any], key: str) -> tuple[str, ...]:
    """Empty (choose automatically) or two distinct zone names of one region: "us-east-1a,us-east-1b"."""
    value = raw[key]
    parts = value if isinstance(value, list | tuple) else str(value or "").split(",")
    zones = tuple(str(part).strip().lower() for part in parts if str(part).strip())
    if not zones:
        return ()
    regions = {zone[:-1] for zone in zones}
    if (
        len(zones) != 2
        or len(set(zones)) != 2
        or len(regions) != 1
        or not all(_AVAILABILITY_ZONE.match(zone) for zone in zones)
    ):
        raise OptionError(
            f"option {key}={value!r} is not valid; use two zones of one region, such as "
            "us-east-1a,us-east-1b, or leave it empty to have them chosen"
        )
    return zones


def _boolean(raw: Mapping[str, Any], key: str) -> bool:
    value = raw[key]
    if isinstance(value, bool):
        return value
    return _choice(raw, key, BOOLEANS) == "true"


def _pattern(raw: Mapping[str, Any], key: str, pattern: re.Pattern[str], what: str) -> str:
    value = str(raw[key]).strip()
    if not pattern.match(value):
        raise OptionError(f"option {key}={value!r} is not valid; use {what}")
    return value


def _optional_pattern(raw: Mapping[str, Any], key: str, pattern: re.Pattern[str], what: str) -> str:
    """Empty (not set) or a value matching `pattern`."""
    return _pattern(raw, key, pattern, f"{what}, or leave it empty") if str(raw[key] or "").strip() else ""


def _parse_number(raw: Mapping[str, Any], key: str, what: str) -> float:
    value = raw[key]
    if isinstance(value, bool):
        raise OptionError(f"option {key}={value!r} is not {what}")
    try:
        return float(value)
    except (TypeError, ValueError):
        raise OptionError(f"option {key}={value!r} is not {what}") from None


def _number(raw: Mapping[str, Any], key: str, *, low: float, high: float, step: float) -> float:
    value = _parse_number(raw, key, "a number")
    if not low <= value <= high or (value / step) != int(value / step):
        raise OptionError(
            f"option {key}={raw[key]!r} is not allowed; use {low:g} to {high:g} in steps of {step:g}"
        )
    return value


def _integer(raw: Mapping[str, Any], key: str, low: int, high: int) -> int:
    value = _parse_number(raw, key, "a whole number")
    if value != int(value) or not low <= value <= high:
        raise OptionError(
            f"option {key}={raw[key]!r} is not allowed; use a whole number from {low} to {high}"
        )
    return int(value)


def _integer_choice(raw: Mapping[str, Any], key: str, allowed: tuple[int, ...]) -> int:
    value = _parse_number(raw, key, "a whole number")
    if value not in allowed:
        raise OptionError(
            f"option {key}={raw[key]!r} is not allowed; use one of: {', '.join(str(a) for a in allowed)}"
        )
    return int(value)
