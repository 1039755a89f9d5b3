"""The engine as the deployed Lambdas run it: loaded once per execution environment from the model
bundled beside the handler, a Data API client per answer, and the answer's deadline cut to what the
invocation has left.

The recommend API and the console's API both answer through it (lambda/recommend, lambda/console).
Environment: CLUSTER_ARN and API_SECRET_ARN (the Data API's cluster and the API user's secret: the
database user with table-level grants and no S3 role, docs/bootstrap.md),
DATABASE_NAME (default churnguard), MODEL_DIR (metadata.json + model.json; relative to the bundle,
default "model"), RULES_FILE (optional; default: churnguard/rules/default.json in the bundle).
Imports: standard library, boto3 and churnguard's pure-Python modules only.
"""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from churnguard.constants import DATABASE_NAME
from churnguard.engine.deadline import API_CONNECT_TIMEOUT_S, Deadline, answer_timeout, longest_api_wait_s
from churnguard.engine.recommend import Engine
from churnguard.errors import UserError
from churnguard.sql_client import SqlClient

LOGGER = logging.getLogger("churnguard.lambda_runtime")
LOGGER.setLevel(logging.INFO)

DEFAULT_MODEL_DIR = "model"
# Kept back from the invocation's remaining time: building the response and logging after the last
# database call, so Lambda's own timeout never cuts an answer off.
INVOCATION_MARGIN_S = 1.0

ClientFactory = Callable[..., SqlClient]


def data_api_client(*, cluster_arn: str, secret_arn: str, database: str, deadline: Deadline) -> SqlClient:
    """The production client: the RDS Data API, authorised by the function's role and the API user's
    secret.

    It does not wait for a paused cluster to resume (about 15 s, longer than an agent can wait):
    the caller gets 503 with Retry-After at once.
    """
    from churnguard.dataapi import DataApiClient

    return DataApiClient(
        rds_data_client(answer_timeout()),  # the configured budget: one client, however the deadline is cut
        resource_arn=cluster_arn,
        secret_arn=secret_arn,
        database=database,
        resume_delays_s=(),
        deadline=deadline,
    )


@functools.cache
def rds_data_client(read_timeout_s: float) -> Any:
    """One boto3 rds-data client for the life of the execution environment: building one reads the
    service model and sets up HTTPS, work a warm request need not repeat. boto3 clients are safe to
    share, and the DataApiClient around it, which holds a request's transaction, is still per request.
    One attempt per call: within a budget of seconds a retry only moves the failure later (the caller
    retries on 503)."""
    from churnguard.aws_clients import aws_client

    return aws_client(
        "rds-data", connect_timeout=API_CONNECT_TIMEOUT_S, read_timeout=read_timeout_s, max_attempts=1
    )


def bundled_engine(bundle_dir: Path) -> Engine:
    """The engine for the model in $MODEL_DIR (relative to `bundle_dir`) and $RULES_FILE, loaded on
    the first request and kept for the life of the execution environment."""
    model_dir = Path(os.environ.get("MODEL_DIR") or DEFAULT_MODEL_DIR)
    if not model_dir.is_absolute():
        model_dir = bundle_dir / model_dir
    return _load_engine(model_dir, os.environ.get("RULES_FILE") or None)


@functools.cache
def _load_engine(model_dir: Path, rules_path: str | None) -> Engine:
    engine = Engine.load(model_dir, rules_path=rules_path)
    LOGGER.info(
        "loaded rules version %s and %d trees", engine.rules.version, len(engine.explainer.ensemble.trees)
    )
    return engine


def client_settings() -> dict[str, str]:
    """The Data API settings from the environment, refusing to start without them."""
    missing = [name for name in ("CLUSTER_ARN", "API_SECRET_ARN") if not os.environ.get(name)]
    if missing:
        raise UserError(f"environment variable {missing[0]} is not set")
    return {
        "cluster_arn": os.environ["CLUSTER_ARN"],
        "secret_arn": os.environ["API_SECRET_ARN"],
        "database": os.environ.get("DATABASE_NAME") or DATABASE_NAME,
    }


def answer_deadline(context: Any) -> Deadline:
    """The answer's deadline: the configured budget, cut so that the longest wait it allows
    (longest_api_wait_s) ends before the invocation's own timeout, with a margin to answer."""
    budget = answer_timeout()
    remaining_ms = getattr(context, "get_remaining_time_in_millis", None)
    if remaining_ms is not None:
        usable = remaining_ms() / 1000 - INVOCATION_MARGIN_S - (longest_api_wait_s(budget) - budget)
        budget = max(0.1, min(budget, usable))
    return Deadline.after(budget)
