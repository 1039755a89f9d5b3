"""Aurora MySQL 3 with Aurora machine learning: the database DBAs and the call centre query in SQL.

Aurora calls SageMaker (will_churn), Comprehend (sentiment), Bedrock (call_reason) and S3 (LOAD DATA /
SELECT INTO OUTFILE) with IAM roles associated with the cluster and named in its cluster parameter
group; the stack grants those roles their narrow permissions. Capacity is Serverless v2 pausing at
0 ACU when idle by default, so an unused deployment costs storage only.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_rds as rds
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from churnguard.constants import API_USER_NAME, DATABASE_NAME
from infra.log_retention import LOG_RETENTION
from infra.nag import acknowledge

# Engine versions are Aurora MySQL 3 (MySQL 8.0 compatible): the parameter group family is aurora-mysql8.0.
MYSQL_MAJOR_VERSION = "8.0"
ADMIN_USERNAME = "churnguard_admin"
APP_USERNAME = "churnguard_app"
ERROR_LOG = "error"


class Database(Construct):
    """KMS key, admin, app-user and API-user secrets, Aurora ML roles, parameter group and the cluster."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        cluster_identifier: str,
        vpc: ec2.IVpc,
        subnets: ec2.SubnetSelection,
        security_group: ec2.ISecurityGroup,
        engine_version: str,
        serverless: bool,
        instance_class: str,
        min_acu: float,
        max_acu: float,
        auto_pause_minutes: int,
        with_sagemaker_role: bool,
        backup_retention_days: int,
        protect: bool,
        with_bedrock_role: bool = False,
    ) -> None:
        super().__init__(scope, construct_id)
        removal = cdk.RemovalPolicy.RETAIN if protect else cdk.RemovalPolicy.DESTROY

        self.key = kms.Key(
            self,
            "Key",
            description="churnguard: Aurora storage and database secrets",
            enable_key_rotation=True,
            removal_policy=removal,
            pending_window=cdk.Duration.days(30 if protect else 7),
        )

        self.sagemaker_role = (
            self._aurora_role("SageMakerRole", "Aurora ML calls the churn endpoint")
            if with_sagemaker_role
            else None
        )
        self.comprehend_role = self._aurora_role("ComprehendRole", "Aurora ML calls Comprehend sentiment")
        self.s3_role = self._aurora_role("S3Role", "Aurora LOAD DATA FROM S3 / SELECT INTO OUTFILE S3")
        self.bedrock_role = (
            self._aurora_role("BedrockRole", "Aurora ML calls the call-reason model on Bedrock")
            if with_bedrock_role
            else None
        )
        associated = [
            r
            for r in (self.sagemaker_role, self.comprehend_role, self.s3_role, self.bedrock_role)
            if r is not None
        ]

        parameters = {
            "require_secure_transport": "ON",
            "aws_default_comprehend_role": self.comprehend_role.role_arn,
            # Aurora MySQL 3 reads LOAD DATA FROM S3 and SELECT INTO OUTFILE S3 from this one parameter;
            # aurora_load_from_s3_role / aurora_select_into_s3_role exist only in version 2.
            "aws_default_s3_role": self.s3_role.role_arn,
            # The bootstrap creates will_churn and the one-hot helpers as the admin user, who has no
            # SUPER on Aurora; should a DBA turn binary logging on, CREATE FUNCTION would then fail
            # (error 1419) without this. Every generated function is declared DETERMINISTIC NO SQL.
            "log_bin_trust_function_creators": "1",
        }
        if self.sagemaker_role is not None:
            parameters["aws_default_sagemaker_role"] = self.sagemaker_role.role_arn
        if self.bedrock_role is not None:
            parameters["aws_default_bedrock_role"] = self.bedrock_role.role_arn
        engine = rds.DatabaseClusterEngine.aurora_mysql(
            version=rds.AuroraMysqlEngineVersion.of(engine_version, MYSQL_MAJOR_VERSION)
        )
        self.parameter_group = rds.ParameterGroup(
            self,
            "ClusterParameters",
            engine=engine,
            description="churnguard: Aurora ML roles, TLS required",
            parameters=parameters,
        )

        # AWS's LTS page: "We recommend that you disable automatic minor version upgrades for LTS versions
        # [...] If you don't disable it, your DB cluster could be upgraded to a non-LTS version."
        if serverless:
            writer = rds.ClusterInstance.serverless_v2(
                "writer", publicly_accessible=False, auto_minor_version_upgrade=False
            )
        else:
            writer = rds.ClusterInstance.provisioned(
                "writer",
                instance_type=ec2.InstanceType(instance_class),
                publicly_accessible=False,
                auto_minor_version_upgrade=False,
            )
        self.cluster = rds.DatabaseCluster(
            self,
            "Cluster",
            engine=engine,
            cluster_identifier=cluster_identifier,
            writer=writer,
            serverless_v2_min_capacity=min_acu if serverless else None,
            serverless_v2_max_capacity=max_acu if serverless else None,
            serverless_v2_auto_pause_duration=(
                cdk.Duration.minutes(auto_pause_minutes) if serverless and min_acu == 0 else None
            ),
            vpc=vpc,
            vpc_subnets=subnets,
            security_groups=[security_group],
            credentials=rds.Credentials.from_generated_secret(ADMIN_USERNAME, encryption_key=self.key),
            default_database_name=DATABASE_NAME,
            parameter_group=self.parameter_group,
            storage_encrypted=True,
            storage_encryption_key=self.key,
            iam_authentication=True,
            enable_data_api=True,
            backup=rds.BackupProps(
                retention=cdk.Duration.days(backup_retention_days), preferred_window="03:00-04:00"
            ),
            preferred_maintenance_window="sun:04:30-sun:05:30",
            deletion_protection=protect,
            removal_policy=cdk.RemovalPolicy.SNAPSHOT if protect else cdk.RemovalPolicy.DESTROY,
            # Only the error log: the general, slow-query and audit logs record statement text, which
            # holds customer messages and phone numbers that must never reach a log.
            cloudwatch_logs_exports=[ERROR_LOG],
            copy_tags_to_snapshot=True,
        )
        # Created here rather than by `cloudwatch_logs_retention`, which would add a log-retention
        # Lambda with account-wide log permissions just to set a retention.
        self.error_log_group = logs.LogGroup(
            self,
            "ErrorLog",
            log_group_name=f"/aws/rds/cluster/{cluster_identifier}/{ERROR_LOG}",
            retention=LOG_RETENTION,
            removal_policy=removal,
        )
        self.cluster.node.add_dependency(self.error_log_group)
        cfn_cluster = self.cluster.node.default_child
        assert isinstance(cfn_cluster, rds.CfnDBCluster)
        cfn_cluster.associated_roles = [
            rds.CfnDBCluster.DBClusterRoleProperty(role_arn=role.role_arn) for role in associated
        ]
        self.admin_secret = self.cluster.secret

        # The bootstrap creates these two MySQL users with their generated passwords.
        self.app_secret = self._user_secret(
            "AppUserSecret",
            APP_USERNAME,
            "churnguard: application database user (DBAs' SQL, training, verify)",
            removal,
        )
        self.api_secret = self._user_secret(
            "ApiUserSecret",
            API_USER_NAME,
            "churnguard: API database user (recommend and console Lambdas; table-level grants, no S3)",
            removal,
        )
        self._acknowledge_findings(protect=protect, backup_retention_days=backup_retention_days)

    def _acknowledge_findings(self, *, protect: bool, backup_retention_days: int) -> None:
        cluster = self.cluster.node.default_child
        assert cluster is not None
        if not protect:
            acknowledge(
                cluster,
                "AwsSolutions-RDS10",
                "stage=dev is a disposable environment that `cdk destroy` must remove completely; "
                "stage=prod enables deletion protection and snapshots on delete.",
            )
        acknowledge(
            cluster,
            "AwsSolutions-RDS11",
            "The cluster has no ingress rule at all: applications reach it through the IAM-authorised "
            "RDS Data API, so the port number is not an access control here.",
        )
        acknowledge(
            cluster,
            "AwsSolutions-RDS14",
            f"Recovery relies on continuous backups with point-in-time restore ({backup_retention_days} "
            "days); Backtrack would add a per-change-record charge without a recovery need.",
        )
        # cluster.secret is the secret's attachment; the finding sits on the generated secret itself.
        acknowledge(
            self.cluster.node.find_child("Secret"),
            "AwsSolutions-SMG4",
            "The admin secret is used only by the deploy-time bootstrap through the Data API; rotation "
            "would need a rotation Lambda with network access to the cluster. KMS-encrypted, readable "
            "only by the bootstrap role.",
        )
        acknowledge(
            self.app_secret,
            "AwsSolutions-SMG4",
            "The bootstrap sets the MySQL account's password from this secret on deploy; a Secrets "
            "Manager rotation would change the secret without the account. KMS-encrypted, readable only "
            "by the bootstrap role (and the people given it for DBA work, training and verify).",
        )
        acknowledge(
            self.api_secret,
            "AwsSolutions-SMG4",
            "The bootstrap sets the API user's MySQL password from this secret on every deploy; a "
            "Secrets Manager rotation would change the secret without the account. KMS-encrypted, "
            "readable only by the bootstrap role and the two API Lambdas' roles.",
        )

    def _user_secret(
        self, construct_id: str, username: str, description: str, removal: cdk.RemovalPolicy
    ) -> secretsmanager.Secret:
        """A database user's name and generated password, which the bootstrap sets on every deploy;
        no punctuation, so the password can sit inside a quoted DDL string without escaping."""
        return secretsmanager.Secret(
            self,
            construct_id,
            description=description,
            encryption_key=self.key,
            generate_secret_string=secretsmanager.SecretStringGenerator(
                secret_string_template=json.dumps({"username": username}),
                generate_string_key="password",
                exclude_punctuation=True,
                password_length=32,
            ),
            removal_policy=removal,
        )

    def _aurora_role(self, construct_id: str, purpose: str) -> iam.Role:
        """A role only this account's RDS can assume; its permissions are added by the stack."""
        return iam.Role(
            self,
            construct_id,
            description=f"churnguard: {purpose}",
            assumed_by=iam.ServicePrincipal(
                "rds.amazonaws.com", conditions={"StringEquals": {"aws:SourceAccount": cdk.Aws.ACCOUNT_ID}}
            ),
        )

    def grant_data_api(self, grantee: iam.IGrantable, secrets: Sequence[secretsmanager.ISecret]) -> None:
        """Data API statements on this cluster, and reading `secrets` (each a database user's, which
        the Data API signs in as): the bootstrap gets the admin's and the two users' it creates, the
        API Lambdas the API user's alone."""
        grantee.grant_principal.add_to_principal_policy(
            iam.PolicyStatement(
                actions=[
                    "rds-data:ExecuteStatement",
                    "rds-data:BatchExecuteStatement",
                    "rds-data:BeginTransaction",
                    "rds-data:CommitTransaction",
                    "rds-data:RollbackTransaction",
                ],
                resources=[self.cluster.cluster_arn],
            )
        )
        for secret in secrets:
            secret.grant_read(grantee)
