"""Finders for each kind of resource the project can leave behind, and how to remove each one.

Every finder lists candidates by name prefix first (cheap, and it keeps tag look-ups to our own
resources), then keeps only those carrying the project's tags: see `ownership`. A finder never
removes anything by itself; the sweep decides what to remove and in which order.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol
from urllib.parse import urlparse

from botocore.exceptions import ClientError

from churnguard.teardown.clients import AwsClients
from churnguard.teardown.ownership import (
    CLOUDFORMATION_STACK_TAG,
    has_project_name,
    has_project_tags,
    is_project_resource,
    tags_as_dict,
)

# States in which a resource is already on its way out: not a failure of the sweep.
GOING_AWAY_STATES = frozenset(
    {"Deleting", "Stopping", "deleting", "DELETE_IN_PROGRESS", "PendingDeletion", "Stopped"}
)
# What a stage=prod stack keeps when it is deleted (RemovalPolicy RETAIN, and SNAPSHOT for the cluster,
# in infra/): log groups, the app secret, the KMS key, both buckets, the final cluster snapshot.
# The sweep keeps them unless asked to delete them too; the final check names each with its cost.
RETAINED_BY_PROD = frozenset(
    {
        "log group",
        "Secrets Manager secret",
        "KMS key",
        "S3 bucket",
        "DB cluster snapshot",
        "Cognito user pool",
    }
)
STAGE_TAG = "stage"
PROD_STAGE = "prod"
GIGABYTE = 1024**3


@dataclass(frozen=True)
class Leftover:
    """A resource found by name; `owned` is False when it lacks the project's tags (never touched)."""

    kind: str
    name: str
    state: str
    billable: bool
    action: str
    stack: str | None = None
    details: dict[str, str] = field(default_factory=dict, compare=False)
    owned: bool = True
    # What it stores (log group, bucket, snapshot, artifacts), for its monthly cost; None when not measured.
    stored_gb: float | None = field(default=None, compare=False)
    # Kept on purpose by a stage=prod stack (RETAINED_BY_PROD and tagged stage=prod).
    retained: bool = False

    @classmethod
    def tagged(
        cls,
        kind: str,
        name: str,
        state: str,
        *,
        billable: bool,
        action: str,
        tags: dict[str, str],
        details: dict[str, str] | None = None,
        stored_gb: float | None = None,
    ) -> Leftover:
        """A resource whose tags say whether it is the project's, which stack (if any) made it and
        whether a prod stack retained it on purpose."""
        return cls(
            kind,
            name,
            state,
            billable,
            action,
            tags.get(CLOUDFORMATION_STACK_TAG),
            details or {},
            has_project_tags(tags),
            stored_gb,
            kind in RETAINED_BY_PROD and tags.get(STAGE_TAG) == PROD_STAGE,
        )

    @property
    def going_away(self) -> bool:
        return self.state in GOING_AWAY_STATES

    def describe(self) -> str:
        return f"{self.kind} {self.name} ({self.state})"


class Finder(Protocol):
    kind: str

    def find(self, aws: AwsClients) -> list[Leftover]: ...

    def remove(self, aws: AwsClients, leftover: Leftover) -> None: ...


def _pages(client: Any, operation: str, key: str, **kwargs: Any) -> Iterator[dict[str, Any]]:
    for page in client.get_paginator(operation).paginate(**kwargs):
        yield from page.get(key, [])


def _sagemaker_tags(aws: AwsClients, arn: str) -> dict[str, str]:
    return tags_as_dict(aws.sagemaker.list_tags(ResourceArn=arn).get("Tags", []))


class SageMakerJobFinder:
    """Training or tuning jobs still running: stopped, since they bill per instance-second."""

    def __init__(self, *, tuning: bool) -> None:
        self.tuning = tuning
        self.kind = "SageMaker tuning job" if tuning else "SageMaker training job"

    def find(self, aws: AwsClients) -> list[Leftover]:
        if self.tuning:
            jobs = _pages(
                aws.sagemaker,
                "list_hyper_parameter_tuning_jobs",
                "HyperParameterTuningJobSummaries",
                StatusEquals="InProgress",
            )
            named = ((job["HyperParameterTuningJobName"], job["HyperParameterTuningJobArn"]) for job in jobs)
        else:
            jobs = _pages(
                aws.sagemaker, "list_training_jobs", "TrainingJobSummaries", StatusEquals="InProgress"
            )
            named = ((job["TrainingJobName"], job["TrainingJobArn"]) for job in jobs)
        found = []
        for name, arn in named:
            if not has_project_name(name):
                continue
            tags = _sagemaker_tags(aws, arn)
            if is_project_resource(name, tags):
                found.append(
                    Leftover.tagged(self.kind, name, "InProgress", billable=True, action="stop", tags=tags)
                )
        return found

    def remove(self, aws: AwsClients, leftover: Leftover) -> None:
        if self.tuning:
            aws.sagemaker.stop_hyper_parameter_tuning_job(HyperParameterTuningJobName=leftover.name)
        else:
            aws.sagemaker.stop_training_job(TrainingJobName=leftover.name)


class SageMakerResourceFinder:
    """Endpoints (billed while they exist), endpoint configurations and models (free, but clutter)."""

    _API: ClassVar[dict[str, tuple[str, str, str, str, str | None]]] = {
        "endpoint": ("list_endpoints", "Endpoints", "EndpointName", "EndpointArn", "EndpointStatus"),
        "endpoint config": (
            "list_endpoint_configs",
            "EndpointConfigs",
            "EndpointConfigName",
            "EndpointConfigArn",
            None,
        ),
        "model": ("list_models", "Models", "ModelName", "ModelArn", None),
    }

    def __init__(self, what: str) -> None:
        self.what = what
        self.kind = f"SageMaker {what}"

    def find(self, aws: AwsClients) -> list[Leftover]:
        operation, key, name_key, arn_key, status_key = self._API[self.what]
        found = []
        for item in _pages(aws.sagemaker, operation, key):
            name = item[name_key]
            if not has_project_name(name):
                continue
            tags = _sagemaker_tags(aws, item[arn_key])
            state = item.get(status_key, "exists") if status_key else "exists"
            billable = self.what == "endpoint"
            found.append(
                Leftover.tagged(
                    self.kind,
                    name,
                    state,
                    billable=billable,
                    action="delete",
                    tags=tags,
                )
            )
        return found

    def remove(self, aws: AwsClients, leftover: Leftover) -> None:
        if self.what == "endpoint":
            aws.sagemaker.delete_endpoint(EndpointName=leftover.name)
        elif self.what == "endpoint config":
            aws.sagemaker.delete_endpoint_config(EndpointConfigName=leftover.name)
        else:
            aws.sagemaker.delete_model(ModelName=leftover.name)


def _stored_bytes(aws: AwsClients, bucket: str, prefix: str = "") -> int | None:
    """Bytes held by every object version under the prefix (what S3 bills); None when there is none."""
    total, count = 0, 0
    for page in aws.s3.get_paginator("list_object_versions").paginate(Bucket=bucket, Prefix=prefix):
        for version in page.get("Versions", []):
            total += int(version.get("Size", 0))
            count += 1
    return total if count else None


def delete_object_versions(aws: AwsClients, bucket: str, prefix: str = "") -> int:
    """Deletes every object version and delete marker under the prefix (plain objects have version
    "null"); returns how many it deleted."""
    batch: list[dict[str, str]] = []
    deleted = 0
    for page in aws.s3.get_paginator("list_object_versions").paginate(Bucket=bucket, Prefix=prefix):
        for entry in page.get("Versions", []) + page.get("DeleteMarkers", []):
            batch.append({"Key": entry["Key"], "VersionId": entry["VersionId"]})
            if len(batch) == 1000:
                aws.s3.delete_objects(Bucket=bucket, Delete={"Objects": batch, "Quiet": True})
                deleted += len(batch)
                batch = []
    if batch:
        aws.s3.delete_objects(Bucket=bucket, Delete={"Objects": batch, "Quiet": True})
        deleted += len(batch)
    return deleted


class TrainingArtifactFinder:
    """What the project's training jobs wrote to S3 (`<S3OutputPath>/<job name>/`), wherever the bucket is.

    Only the job's own folder is removed, so artifacts in a shared bucket (such as SageMaker's default
    bucket) disappear without touching anything else in it.
    """

    kind = "training artifacts"

    def find(self, aws: AwsClients) -> list[Leftover]:
        found = []
        for job in _pages(aws.sagemaker, "list_training_jobs", "TrainingJobSummaries"):
            name = job["TrainingJobName"]
            if not has_project_name(name):
                continue
            tags = _sagemaker_tags(aws, job["TrainingJobArn"])
            if not is_project_resource(name, tags):
                continue
            description = aws.sagemaker.describe_training_job(TrainingJobName=name)
            output = urlparse(description.get("OutputDataConfig", {}).get("S3OutputPath", ""))
            if output.scheme != "s3" or not output.netloc:
                continue
            prefix = f"{output.path.strip('/')}/{name}/".lstrip("/")
            try:
                stored = _stored_bytes(aws, output.netloc, prefix)
            except ClientError as error:
                if error.response["Error"]["Code"] == "NoSuchBucket":
                    continue
                raise
            if stored is not None:
                found.append(
                    Leftover(
                        self.kind,
                        f"s3://{output.netloc}/{prefix}",
                        "stored",
                        True,
                        "delete objects",
                        details={"bucket": output.netloc, "prefix": prefix},
                        stored_gb=stored / GIGABYTE,
                    )
                )
        return found

    def remove(self, aws: AwsClients, leftover: Leftover) -> None:
        delete_object_versions(aws, leftover.details["bucket"], leftover.details["prefix"])


class TrainingRunFinder:
    """Objects a `churnguard train --sagemaker` run left behind when it died before cleaning up.

    A run stages its CSVs under `model/<run>/staging/` (or, when the rows stay in Aurora, Aurora
    writes them under `tmp/training/<run>/staging/`), and its jobs write under `model/<run>/output/`;
    runs of earlier versions exported the table to `tmp/<run>/`. The run's tuning job (named and
    tagged as the project's) records where its channels were, so every prefix is found from it, in
    whatever bucket they are.
    """

    kind = "training run objects"
    STAGING_MARKER = "/staging/"

    def find(self, aws: AwsClients) -> list[Leftover]:
        found: dict[tuple[str, str], Leftover] = {}
        for job in _pages(
            aws.sagemaker, "list_hyper_parameter_tuning_jobs", "HyperParameterTuningJobSummaries"
        ):
            name = job["HyperParameterTuningJobName"]
            if not has_project_name(name):
                continue
            if not is_project_resource(name, _sagemaker_tags(aws, job["HyperParameterTuningJobArn"])):
                continue
            description = aws.sagemaker.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName=name)
            channels = description.get("TrainingJobDefinition", {}).get("InputDataConfig", [])
            for channel in channels:
                for bucket, prefix in self._run_prefixes(channel["DataSource"]["S3DataSource"]["S3Uri"]):
                    if (bucket, prefix) not in found:
                        leftover = self._stored(aws, bucket, prefix)
                        if leftover is not None:
                            found[(bucket, prefix)] = leftover
        return list(found.values())

    def _run_prefixes(self, uri: str) -> list[tuple[str, str]]:
        """The run's prefixes (see the class) from a staged channel URI of a run named as the project's."""
        parsed = urlparse(uri)
        key = parsed.path.lstrip("/")
        if parsed.scheme != "s3" or self.STAGING_MARKER not in key:
            return []
        run = key.split(self.STAGING_MARKER, 1)[0].rsplit("/", 1)[-1]
        if not has_project_name(run):
            return []
        return [
            (parsed.netloc, prefix) for prefix in (f"model/{run}/", f"tmp/training/{run}/", f"tmp/{run}/")
        ]

    def _stored(self, aws: AwsClients, bucket: str, prefix: str) -> Leftover | None:
        try:
            stored = _stored_bytes(aws, bucket, prefix)
        except ClientError as error:
            if error.response["Error"]["Code"] == "NoSuchBucket":
                return None
            raise
        if stored is None:
            return None
        return Leftover(
            self.kind,
            f"s3://{bucket}/{prefix}",
            "stored",
            True,
            "delete objects",
            details={"bucket": bucket, "prefix": prefix},
            stored_gb=stored / GIGABYTE,
        )

    def remove(self, aws: AwsClients, leftover: Leftover) -> None:
        delete_object_versions(aws, leftover.details["bucket"], leftover.details["prefix"])


class LogGroupFinder:
    """Log groups such as /aws/lambda/churnguard-…, /aws/sagemaker/Endpoints/churnguard-… or
    /aws/rds/cluster/churnguard-dev/error.

    One path segment must carry the prefix; shared groups like /aws/sagemaker/TrainingJobs never
    do and are left alone.
    """

    kind = "log group"

    def find(self, aws: AwsClients) -> list[Leftover]:
        found = []
        for group in _pages(aws.logs, "describe_log_groups", "logGroups"):
            name = group["logGroupName"]
            named = [segment for segment in name.split("/") if has_project_name(segment)]
            if not named:
                continue
            arn = group.get("logGroupArn") or group["arn"].removesuffix(":*")
            tags = tags_as_dict(aws.logs.list_tags_for_resource(resourceArn=arn).get("tags", {}))
            found.append(
                Leftover.tagged(
                    self.kind,
                    name,
                    "stored",
                    billable=True,
                    action="delete",
                    tags=tags,
                    stored_gb=int(group.get("storedBytes", 0)) / GIGABYTE,
                )
            )
        return found

    def remove(self, aws: AwsClients, leftover: Leftover) -> None:
        aws.logs.delete_log_group(logGroupName=leftover.name)


class ClusterSnapshotFinder:
    """Manual Aurora cluster snapshots, including the final snapshot taken when a stack deletes a cluster."""

    kind = "DB cluster snapshot"

    def find(self, aws: AwsClients) -> list[Leftover]:
        found = []
        for snapshot in _pages(
            aws.rds, "describe_db_cluster_snapshots", "DBClusterSnapshots", SnapshotType="manual"
        ):
            name = snapshot["DBClusterSnapshotIdentifier"]
            if not has_project_name(name):
                continue
            tags = tags_as_dict(snapshot.get("TagList"))
            if not tags:
                arn = snapshot["DBClusterSnapshotArn"]
                tags = tags_as_dict(aws.rds.list_tags_for_resource(ResourceName=arn).get("TagList"))
            state = snapshot.get("Status", "available")
            found.append(
                Leftover.tagged(
                    self.kind,
                    name,
                    state,
                    billable=True,
                    action="delete",
                    tags=tags,
                    stored_gb=float(snapshot.get("AllocatedStorage", 0)),  # GiB of the cluster volume
                )
            )
        return found

    def remove(self, aws: AwsClients, leftover: Leftover) -> None:
        aws.rds.delete_db_cluster_snapshot(DBClusterSnapshotIdentifier=leftover.name)


class BucketFinder:
    """Project buckets in this region, emptied (every version) and deleted."""

    kind = "S3 bucket"

    def find(self, aws: AwsClients) -> list[Leftover]:
        found = []
        for bucket in aws.s3.list_buckets().get("Buckets", []):
            name = bucket["Name"]
            if not has_project_name(name):
                continue
            location = aws.s3.get_bucket_location(Bucket=name).get("LocationConstraint") or "us-east-1"
            if location != aws.region:
                continue
            try:
                tags = tags_as_dict(aws.s3.get_bucket_tagging(Bucket=name).get("TagSet", []))
            except ClientError as error:
                if error.response["Error"]["Code"] != "NoSuchTagSet":
                    raise
                tags = {}
            found.append(
                Leftover.tagged(
                    self.kind,
                    name,
                    "exists",
                    billable=True,
                    action="empty and delete",
                    tags=tags,
                    stored_gb=(_stored_bytes(aws, name) or 0) / GIGABYTE,
                )
            )
        return found

    def remove(self, aws: AwsClients, leftover: Leftover) -> None:
        delete_object_versions(aws, leftover.name)
        aws.s3.delete_bucket(Bucket=leftover.name)


class SecretFinder:
    """Secrets Manager secrets: deleted with a 7-day recovery window (the minimum AWS allows).

    CloudFormation names a secret after its construct (`DatabaseAppUserSecret9C33AA81-AbCdEf`), not the
    project, so the secret's description ("churnguard: application database user ...") or the stack that
    made it (`aws:cloudformation:stack-name` = churnguard-prod) stands for its name, as for KMS keys.
    A secret costs $0.40 a month, and a prod stack retains the app user's one.
    """

    kind = "Secrets Manager secret"

    def find(self, aws: AwsClients) -> list[Leftover]:
        found = []
        secrets = _pages(aws.secretsmanager, "list_secrets", "SecretList", IncludePlannedDeletion=True)
        for secret in secrets:
            tags = tags_as_dict(secret.get("Tags"))
            labels = [secret["Name"], secret.get("Description", ""), tags.get(CLOUDFORMATION_STACK_TAG, "")]
            if not any(has_project_name(label) for label in labels):
                continue
            state = "PendingDeletion" if secret.get("DeletedDate") else "exists"
            found.append(
                Leftover.tagged(
                    self.kind,
                    secret["Name"],
                    state,
                    billable=True,
                    action="delete with a 7-day recovery window",
                    tags=tags,
                    details={"arn": secret["ARN"]},
                )
            )
        return found

    def remove(self, aws: AwsClients, leftover: Leftover) -> None:
        aws.secretsmanager.delete_secret(SecretId=leftover.details["arn"], RecoveryWindowInDays=7)


class KmsKeyFinder:
    """Customer managed keys: scheduled for deletion in 7 days (the minimum AWS allows).

    Keys have no name, so an alias `alias/<prefix>…` or a description starting with the prefix
    (the stack's key says "churnguard: Aurora storage…") stands for one. A key costs $1 a month until
    it is deleted, and a stack with RemovalPolicy RETAIN leaves it behind.
    """

    kind = "KMS key"

    def find(self, aws: AwsClients) -> list[Leftover]:
        aliases: dict[str, list[str]] = {}
        for alias in _pages(aws.kms, "list_aliases", "Aliases"):
            if alias.get("TargetKeyId"):
                aliases.setdefault(alias["TargetKeyId"], []).append(alias["AliasName"])
        found = []
        for key in _pages(aws.kms, "list_keys", "Keys"):
            key_id = key["KeyId"]
            metadata = aws.kms.describe_key(KeyId=key_id)["KeyMetadata"]
            names = [alias.removeprefix("alias/") for alias in aliases.get(key_id, [])]
            names.append(metadata.get("Description", ""))
            name = next((name for name in names if has_project_name(name)), None)
            if name is None or metadata.get("KeyManager") != "CUSTOMER":
                continue
            tags = tags_as_dict(aws.kms.list_resource_tags(KeyId=key_id).get("Tags", []))
            state = metadata.get("KeyState", "Enabled")
            label = aliases.get(key_id, [name])[0]
            found.append(
                Leftover.tagged(
                    self.kind,
                    f"{label} ({key_id})",
                    state,
                    billable=state != "PendingDeletion",
                    action="schedule deletion in 7 days",
                    tags=tags,
                    details={"key_id": key_id},
                )
            )
        return found

    def remove(self, aws: AwsClients, leftover: Leftover) -> None:
        aws.kms.schedule_key_deletion(KeyId=leftover.details["key_id"], PendingWindowInDays=7)


class CognitoUserPoolFinder:
    """The agent console's Cognito user pool (`churnguard-<stage>-agents`, infra/console.py).

    A prod stack retains it, with deletion protection on, because it holds the agents' accounts; it
    bills per monthly active user, so nothing while no agent signs in. Removing it (--delete-retained)
    switches deletion protection off first, as AWS requires.
    """

    kind = "Cognito user pool"

    def find(self, aws: AwsClients) -> list[Leftover]:
        found = []
        token: str | None = None
        while True:
            page = aws.cognito.list_user_pools(MaxResults=60, **({"NextToken": token} if token else {}))
            for pool in page.get("UserPools", []):
                if not has_project_name(pool["Name"]):
                    continue
                described = aws.cognito.describe_user_pool(UserPoolId=pool["Id"])["UserPool"]
                found.append(
                    Leftover.tagged(
                        self.kind,
                        pool["Name"],
                        described.get("Status") or "exists",
                        billable=False,
                        action="switch deletion protection off, then delete",
                        tags=tags_as_dict(described.get("UserPoolTags")),
                        details={"id": pool["Id"]},
                    )
                )
            token = page.get("NextToken")
            if not token:
                return found

    def remove(self, aws: AwsClients, leftover: Leftover) -> None:
        pool_id = leftover.details["id"]
        aws.cognito.update_user_pool(UserPoolId=pool_id, DeletionProtection="INACTIVE")
        aws.cognito.delete_user_pool(UserPoolId=pool_id)


class StackFinder:
    """The project's CloudFormation stacks that still exist: removed by `cdk destroy`, only reported here."""

    kind = "CloudFormation stack"

    def find(self, aws: AwsClients) -> list[Leftover]:
        found = []
        for stack in _pages(aws.cloudformation, "describe_stacks", "Stacks"):
            name = stack["StackName"]
            status = stack.get("StackStatus", "")
            if status == "DELETE_COMPLETE" or not has_project_name(name):
                continue
            if is_project_resource(name, tags_as_dict(stack.get("Tags"))):
                found.append(Leftover(self.kind, name, status, True, "cdk destroy", name))
        return found

    def remove(self, aws: AwsClients, leftover: Leftover) -> None:
        raise NotImplementedError("stacks are removed by `cdk destroy`, not by the sweep")


class ClusterFinder:
    """Aurora clusters still present (a stack that failed to delete, or a retained cluster): only reported."""

    kind = "DB cluster"

    def find(self, aws: AwsClients) -> list[Leftover]:
        found = []
        for cluster in _pages(aws.rds, "describe_db_clusters", "DBClusters"):
            name = cluster["DBClusterIdentifier"]
            if has_project_name(name) and is_project_resource(name, tags_as_dict(cluster.get("TagList"))):
                found.append(Leftover(self.kind, name, cluster.get("Status", "available"), True, "report"))
        return found

    def remove(self, aws: AwsClients, leftover: Leftover) -> None:
        raise NotImplementedError("clusters are removed with their stack, not by the sweep")


def sweep_finders() -> list[Finder]:
    """What the sweep removes, in a safe order: stop spending first, then endpoints before their configs
    and models, S3 artifacts before the buckets holding them, secrets before the key encrypting them."""
    return [
        SageMakerJobFinder(tuning=True),
        SageMakerJobFinder(tuning=False),
        SageMakerResourceFinder("endpoint"),
        SageMakerResourceFinder("endpoint config"),
        SageMakerResourceFinder("model"),
        TrainingRunFinder(),
        TrainingArtifactFinder(),
        LogGroupFinder(),
        ClusterSnapshotFinder(),
        BucketFinder(),
        SecretFinder(),
        CognitoUserPoolFinder(),
        KmsKeyFinder(),
    ]


def report_only_finders() -> list[Finder]:
    return [StackFinder(), ClusterFinder()]
