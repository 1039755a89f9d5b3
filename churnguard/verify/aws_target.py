"""A deployed stack as a verify target: the Data API as the application user (AppSecretArn) for what
the API does, as the admin (AdminSecretArn) only for verify's own scratch table and offers-log row,
S3 for the export, the Function URL with SigV4 for the API, and with the agent console its page, its
API without a token and, signed in as a temporary Cognito agent, with one.

A cluster that auto-paused answers DatabaseResumingException; the Data API client waits (bounded)
and every wait is announced through `progress`, so nobody mistakes a resume for a hang or a fault.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

from churnguard.aws_clients import NO_CREDENTIALS_HELP, aws_client
from churnguard.dataapi import DataApiClient
from churnguard.errors import UserError
from churnguard.verify.checks import SkipCheck, VerifyFailure
from churnguard.verify.console_api import look_up
from churnguard.verify.console_sign_in import ConsolePool, temporary_agent
from churnguard.verify.function_url import Opener, post_json, unsigned_request
from churnguard.verify.stack_outputs import StackOutputs, read_outputs
from churnguard.verify.target import ExportPlace

# Longer than the API's own budget: a person is waiting on a terminal, not a caller on the phone.
RESUME_DELAYS_S: tuple[float, ...] = (2.0, 4.0, 8.0, 15.0, 15.0, 15.0, 15.0, 15.0)
# The Data API ends a statement after 45 s; wait a little longer for its answer.
DATA_API_READ_TIMEOUT_S = 50.0
# Under the bucket's tmp/ prefix, which Aurora's S3 role may write and a lifecycle rule empties after
# 7 days, so even an interrupted run leaves nothing behind for long.
EXPORT_PREFIX = "tmp/churnguard-verify-"
# A console API route behind the JWT authorizer (infra/console.py); probed without a token.
CONSOLE_PROBE_PATH = "/api/recommend"
# The application user infra/database.py creates (named in grant fixes).
APP_USER = "churnguard_app"

Progress = Callable[[str], None]


class ResumeAnnouncer:
    """The Data API client's `sleep`: says why it waits, then waits; remembers how long in total."""

    def __init__(self, progress: Progress, sleep: Callable[[float], None] = time.sleep) -> None:
        self._progress = progress
        self._sleep = sleep
        self.waited_s = 0.0

    def __call__(self, seconds: float) -> None:
        if self.waited_s == 0.0:
            self._progress(
                "the Aurora cluster is paused (auto-pause) and resuming: waiting for it, up to "
                f"{sum(RESUME_DELAYS_S):.0f} s"
            )
        else:
            self._progress(f"  still resuming after {self.waited_s:.0f} s; next try in {seconds:.0f} s")
        self._sleep(seconds)
        self.waited_s += seconds


class AwsTarget:
    """See the module docstring; clients are passed in so tests can stub them at the boto3 boundary."""

    def __init__(
        self,
        *,
        outputs: StackOutputs,
        region: str,
        rds_data: Any,
        s3: Any,
        credentials: Any,
        progress: Progress,
        sleep: Callable[[float], None] = time.sleep,
        opener: Opener | None = None,
        cognito: Any = None,
    ) -> None:
        self.outputs = outputs
        self.region = region
        self.announcer = ResumeAnnouncer(progress, sleep)
        self._sleep = sleep
        self._progress = progress
        self._cognito = cognito
        common = {"resource_arn": outputs.cluster_arn, "database": outputs.database}
        self.app = DataApiClient(
            rds_data,
            secret_arn=outputs.app_secret_arn,
            resume_delays_s=RESUME_DELAYS_S,
            sleep=self.announcer,
            **common,
        )
        self.admin = DataApiClient(
            rds_data,
            secret_arn=outputs.admin_secret_arn,
            resume_delays_s=RESUME_DELAYS_S,
            sleep=self.announcer,
            **common,
        )
        self.file_client = self.app
        self.aurora = True
        self._s3 = s3
        self._credentials = credentials
        self._opener = opener
        self.description = f"stack {outputs.stack} in {region}"
        self.hints: Mapping[str, str] = {
            "stack": outputs.stack,
            "endpoint": outputs.endpoint_name or "<none: inference_mode=in_database>",
            "user": APP_USER,
        }

    def wake(self) -> str:
        self.app.query("SELECT 1 AS answer")
        if self.announcer.waited_s:
            return f"answers, after resuming from auto-pause ({self.announcer.waited_s:.0f} s of waiting)"
        return "answers through the Data API as the application user"

    @contextmanager
    def export_place(self) -> Iterator[ExportPlace]:
        prefix = f"{EXPORT_PREFIX}{secrets.token_hex(6)}/"
        try:
            yield ExportPlace(
                form="aurora", placeholder="s3_uri", location=f"s3://{self.outputs.bucket}/{prefix}customers"
            )
        finally:
            self.remove_objects(prefix)

    def remove_objects(self, prefix: str) -> int:
        """Delete every object under `prefix` in the data bucket (the export's parts); how many."""
        removed = 0
        paginator = self._s3.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.outputs.bucket, Prefix=prefix):
            keys = [{"Key": item["Key"]} for item in page.get("Contents", [])]
            if not keys:
                continue
            answer = self._s3.delete_objects(
                Bucket=self.outputs.bucket, Delete={"Objects": keys, "Quiet": True}
            )
            if answer.get("Errors"):
                first = answer["Errors"][0]
                raise VerifyFailure(
                    f"could not remove s3://{self.outputs.bucket}/{first.get('Key')}: {first.get('Code')}"
                )
            removed += len(keys)
        return removed

    def recommend(self, area_code: int, phone: str, message: str) -> Mapping[str, Any]:
        options = {"opener": self._opener} if self._opener else {}
        answer = post_json(
            self.outputs.api_url,
            {"area_code": area_code, "phone": phone, "message": message},
            credentials=self._credentials,
            region=self.region,
            **options,
        )
        body = answer.body if isinstance(answer.body, dict) else {"error": str(answer.body)[:200]}
        if answer.status != 200:
            raise VerifyFailure(
                f"the API answered HTTP {answer.status}: {body.get('error') or body.get('message')}"
            )
        return body

    def console(self, customer: tuple[int, str]) -> str:
        outputs = self.outputs
        if not outputs.console_url or not outputs.console_api_url:
            raise SkipCheck("no agent console in this stack (-c console=true adds it)")
        page = unsigned_request("GET", outputs.console_url, opener=self._opener)
        if page.status != 200:
            raise VerifyFailure(f"the console page answered HTTP {page.status}")
        api = unsigned_request(
            "POST", outputs.console_api_url.rstrip("/") + CONSOLE_PROBE_PATH, {}, opener=self._opener
        )
        if api.status != 401:
            raise VerifyFailure(
                f"the console API answered HTTP {api.status} to a call without a sign-in token "
                "(expected 401 from its JWT authorizer)"
            )
        if not outputs.console_user_pool_id or not outputs.console_client_id:
            raise VerifyFailure(
                "the stack has no ConsoleUserPoolId/ConsoleClientId output, so verify cannot sign an agent "
                "in: it was deployed by an older churnguard"
            )
        pool = ConsolePool(outputs.console_user_pool_id, outputs.console_client_id)
        with temporary_agent(self._cognito, pool, sleep=self._wait_for_next_code) as agent:
            lookup = look_up(outputs.console_api_url, agent.access_token, customer, opener=self._opener)
        mfa = " with an authenticator (MFA)" if agent.mfa else ""
        swept = [f"deleted {', '.join(agent.swept)}, left by interrupted runs"] if agent.swept else []
        sweep_notes = "".join(f"; {note}" for note in [*swept, *agent.sweep_problems])
        return (
            "the page answers; the API refuses a call without a sign-in token (401); signed in as a "
            f"temporary agent{mfa}, {lookup}; the temporary agent is deleted{sweep_notes}"
        )

    def _wait_for_next_code(self, seconds: float) -> None:
        """The authenticator's wait for a fresh 30-s step, said so nobody takes it for a hang."""
        self._progress(f"waiting {seconds:.0f} s for the temporary agent's next authenticator code")
        self._sleep(seconds)

    def close(self) -> None:
        """Nothing to release: the Data API, S3 and the Function URL hold no connection."""


def connect_stack(*, stage: str, region: str | None, progress: Progress) -> AwsTarget:
    """The target for churnguard-<stage>: credentials and region checked, the stack's outputs read."""
    session = boto3.Session(region_name=region)
    if not session.region_name:
        raise UserError(
            "no AWS region: pass --region (or -c region=...) or set AWS_REGION / AWS_DEFAULT_REGION"
        )
    credentials = session.get_credentials()
    if credentials is None:
        raise UserError(NO_CREDENTIALS_HELP)
    try:
        outputs = read_outputs(aws_client("cloudformation", session=session), stage, session.region_name)
    except NoCredentialsError as error:
        raise UserError(NO_CREDENTIALS_HELP) from error
    except ClientError as error:
        raise UserError(f"AWS refused to describe the stack: {error}") from error
    except BotoCoreError as error:
        raise UserError(f"could not talk to AWS: {error}") from error
    return AwsTarget(
        outputs=outputs,
        region=session.region_name,
        rds_data=aws_client("rds-data", session=session, read_timeout=DATA_API_READ_TIMEOUT_S),
        s3=aws_client("s3", session=session),
        credentials=credentials.get_frozen_credentials(),
        progress=progress,
        cognito=aws_client("cognito-idp", session=session),
    )
