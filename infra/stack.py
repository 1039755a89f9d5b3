"""The churnguard stack: composes the constructs, wires every grant between them, declares the outputs.

All cross-construct permissions are granted here, in one visible place, so a reviewer can read who may
do what without opening each construct.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from constructs import Construct

from churnguard.constants import DATABASE_NAME
from infra.api import EngineWiring, RecommendApi
from infra.asset_arns import grant_asset_key_decrypt
from infra.availability_zones import availability_zones_for
from infra.bootstrap import DatabaseBootstrap, deploy_sql_files, write_seed_csv, write_seed_messages_csv
from infra.config import StackOptions
from infra.console import AgentConsole
from infra.data_bucket import MODEL_PREFIX, TRAINING_EXPORT_PREFIX, DataBucket
from infra.database import Database
from infra.model_artifacts import load_model_artifacts
from infra.model_endpoint import ModelEndpoint
from infra.nag import acknowledge
from infra.network import Network
from infra.training_role import TrainingRole

SEED_DATA_RANDOM_SEED = 1729
# Aurora ML's sentiment functions call these; Comprehend's detect APIs have no resource-level scope.
COMPREHEND_SENTIMENT_ACTIONS = ("comprehend:DetectSentiment", "comprehend:BatchDetectSentiment")


class ChurnguardStack(cdk.Stack):
    """Network, database, data bucket, model endpoint (inference_mode=endpoint), bootstrap and API."""

    def __init__(
        self, scope: Construct, construct_id: str, *, options: StackOptions, **kwargs: object
    ) -> None:
        super().__init__(
            scope,
            construct_id,
            description="churnguard: Aurora MySQL churn prevention with SageMaker and Comprehend",
            **kwargs,  # type: ignore[arg-type]
        )
        self.options = options
        removal = cdk.RemovalPolicy.RETAIN if options.is_prod else cdk.RemovalPolicy.DESTROY
        artifacts = load_model_artifacts(options.model_dir, needs_tarball=options.has_endpoint)

        self.network = Network(
            self,
            "Network",
            use_nat_gateway=options.network == "nat",
            needs_sagemaker_runtime=options.has_endpoint,
            needs_bedrock_runtime=options.has_call_reasons,
            removal_policy=removal,
            availability_zones=availability_zones_for(
                network=options.network,
                needs_sagemaker_runtime=options.has_endpoint,
                needs_bedrock_runtime=options.has_call_reasons,
                requested=options.availability_zones,
            ),
        )
        subnets = self.network.private_subnets
        database_security_group = self.network.https_client_security_group(
            "DatabaseSecurityGroup",
            description="churnguard Aurora cluster: no ingress; HTTPS out for Aurora ML calls",
        )
        self.database = Database(
            self,
            "Database",
            cluster_identifier=options.stack_name,
            vpc=self.network.vpc,
            subnets=subnets,
            security_group=database_security_group,
            engine_version=options.engine_version,
            serverless=options.capacity == "serverless",
            instance_class=options.instance_class,
            min_acu=options.min_acu,
            max_acu=options.max_acu,
            auto_pause_minutes=options.auto_pause_minutes,
            with_sagemaker_role=options.has_endpoint,
            with_bedrock_role=options.has_call_reasons,
            backup_retention_days=options.backup_retention_days,
            protect=options.is_prod,
        )
        self.data_bucket = DataBucket(self, "DataBucket", destroy_on_delete=not options.is_prod)

        # Aurora ML roles: S3 for LOAD DATA / SELECT INTO OUTFILE, Comprehend sentiment, SageMaker.
        self.data_bucket.grant_aurora_access(self.database.s3_role)
        self.database.comprehend_role.add_to_policy(
            iam.PolicyStatement(actions=list(COMPREHEND_SENTIMENT_ACTIONS), resources=["*"])
        )
        acknowledge(
            self.database.comprehend_role,
            "AwsSolutions-IAM5[Resource::*]",
            "comprehend:DetectSentiment and BatchDetectSentiment support no resource-level permissions "
            "(IAM requires Resource *); the role may call only these two read-only actions.",
        )

        if self.database.bedrock_role is not None:
            # The one model call_reason names, in this region; InvokeModel is all the alias calls.
            self.database.bedrock_role.add_to_policy(
                iam.PolicyStatement(
                    actions=["bedrock:InvokeModel"],
                    resources=[
                        f"arn:{cdk.Aws.PARTITION}:bedrock:{cdk.Aws.REGION}::foundation-model/"
                        f"{options.call_reason_model}"
                    ],
                )
            )

        self.training: TrainingRole | None = None
        if options.sagemaker_training:
            self.training = TrainingRole(
                self,
                "Training",
                bucket=self.data_bucket.bucket,
                model_prefix=MODEL_PREFIX,
                table_export_prefix=TRAINING_EXPORT_PREFIX,
                removal_policy=removal,
            )

        self.endpoint: ModelEndpoint | None = None
        if options.has_endpoint:
            self.endpoint = ModelEndpoint(
                self,
                "ModelEndpoint",
                artifact_path=artifacts.tarball,
                endpoint_name=options.endpoint_name,
                serverless=options.endpoint_mode == "serverless",
                memory_mb=options.endpoint_memory_mb,
                max_concurrency=options.endpoint_max_concurrency,
                instance_type=options.endpoint_instance_type,
                removal_policy=removal,
            )
            assert self.database.sagemaker_role is not None
            self.endpoint.grant_invoke(self.database.sagemaker_role)

        lambda_security_group = self.network.https_client_security_group(
            "LambdaSecurityGroup", description="churnguard Lambdas: no ingress; HTTPS out to AWS APIs"
        )
        seed_csv = seed_messages_csv = None
        if options.seed_sample_data:
            scratch = _scratch_dir()
            seed_csv = write_seed_csv(scratch, rows=options.seed_rows, seed=SEED_DATA_RANDOM_SEED)
            seed_messages_csv = write_seed_messages_csv(
                scratch, rows=options.seed_rows, seed=SEED_DATA_RANDOM_SEED
            )
        self.bootstrap = DatabaseBootstrap(
            self,
            "Bootstrap",
            sql_files=deploy_sql_files(
                artifacts.directory,
                inference_mode=options.inference_mode,
                endpoint_name=options.endpoint_name if options.has_endpoint else None,
                call_reasons=options.call_reasons,
                call_reason_model=options.call_reason_model,
            ),
            cluster_arn=self.database.cluster.cluster_arn,
            admin_secret_arn=self._admin_secret_arn(),
            app_secret_arn=self.database.app_secret.secret_arn,
            api_secret_arn=self.database.api_secret.secret_arn,
            seed_csv=seed_csv,
            seed_messages_csv=seed_messages_csv,
            vpc=self.network.vpc,
            subnets=subnets,
            security_group=lambda_security_group,
            removal_policy=removal,
        )
        assert self.database.admin_secret is not None  # generated by Credentials.from_generated_secret
        self.database.grant_data_api(
            self.bootstrap.handler.role,
            [self.database.admin_secret, self.database.app_secret, self.database.api_secret],
        )
        # LOAD DATA FROM S3 runs inside Aurora with the cluster's S3 role.
        self.bootstrap.grant_load_seed_data(self.database.s3_role)
        if options.asset_key_arn:
            # The roles that GET CDK assets (SageMaker the model, Aurora the seed CSVs), when the
            # bootstrap bucket is encrypted with a key of the user's own (docs/infra.md).
            readers = [self.endpoint.role] if self.endpoint is not None else []
            if options.seed_sample_data:
                readers.append(self.database.s3_role)
            for reader in readers:
                grant_asset_key_decrypt(reader, options.asset_key_arn)
        # The bootstrap needs a running cluster, its Data API endpoints and (for will_churn) the endpoint.
        # Only the custom resource waits: its function's role is referenced by the KMS key policy,
        # which the cluster's secret needs first, so the whole construct waiting would be a cycle.
        self.bootstrap.resource.node.add_dependency(self.database.cluster)
        self.bootstrap.resource.node.add_dependency(self.network)
        if self.endpoint is not None:
            self.bootstrap.resource.node.add_dependency(self.endpoint)

        wiring = EngineWiring(
            model_dir=artifacts.directory,
            cluster_arn=self.database.cluster.cluster_arn,
            api_secret_arn=self.database.api_secret.secret_arn,
            vpc=self.network.vpc,
            subnets=subnets,
            security_group=lambda_security_group,
            removal_policy=removal,
            call_reasons=options.call_reasons,
        )
        self.api = RecommendApi(self, "Api", wiring=wiring)
        self.database.grant_data_api(self.api.handler.role, [self.database.api_secret])

        self.console: AgentConsole | None = None
        if options.console:
            self.console = AgentConsole(
                self,
                "Console",
                wiring=wiring,
                access_log_bucket=self.data_bucket.log_bucket,
                sign_in_domain_prefix=f"{options.stack_name}-{cdk.Aws.ACCOUNT_ID}",
                user_pool_name=f"{options.stack_name}-agents",
                require_mfa=options.is_prod,
            )
            self.database.grant_data_api(self.console.handler.role, [self.database.api_secret])

        self._outputs()

    def _admin_secret_arn(self) -> str:
        secret = self.database.admin_secret
        assert secret is not None  # generated by Credentials.from_generated_secret
        return secret.secret_arn

    def _outputs(self) -> None:
        cluster = self.database.cluster
        outputs = {
            "ClusterArn": (cluster.cluster_arn, "Aurora cluster (Data API resource ARN)"),
            "ClusterEndpoint": (cluster.cluster_endpoint.hostname, "writer endpoint (inside the VPC)"),
            "ReaderEndpoint": (cluster.cluster_read_endpoint.hostname, "reader endpoint (inside the VPC)"),
            "DatabaseName": (DATABASE_NAME, "schema holding customers, offers and the ML functions"),
            "AdminSecretArn": (self._admin_secret_arn(), "admin credentials (Secrets Manager)"),
            "AppSecretArn": (self.database.app_secret.secret_arn, "app user credentials (Secrets Manager)"),
            "ApiSecretArn": (
                self.database.api_secret.secret_arn,
                "the API Lambdas' database user credentials (Secrets Manager)",
            ),
            "DataBucketName": (self.data_bucket.bucket.bucket_name, "exports, imports, training data"),
            "RecommendApiUrl": (self.api.url.url, "recommendation API (SigV4-signed requests only)"),
        }
        if self.console is not None:
            outputs["ConsoleUrl"] = (self.console.url, "agent console (Cognito sign-in)")
            outputs["ConsoleApiUrl"] = (self.console.api.api_endpoint, "agent console API (Cognito JWT)")
            outputs["ConsoleUserPoolId"] = (self.console.user_pool.user_pool_id, "create agents here")
            outputs["ConsoleClientId"] = (
                self.console.client.user_pool_client_id,
                "the console's sign-in client (public: the page's config.json names it)",
            )
        if self.endpoint is not None:
            outputs["EndpointName"] = (self.endpoint.endpoint_name, "SageMaker endpoint behind will_churn()")
        if self.training is not None:
            # What `churnguard train --sagemaker --stage STAGE` reads (training/sagemaker/stack.py).
            outputs["TrainingRoleArn"] = (self.training.role.role_arn, "execution role of SageMaker training")
            outputs["TrainingKeyArn"] = (self.training.key.key_arn, "KMS key of training data and models")
        for name, (value, description) in outputs.items():
            cdk.CfnOutput(self, name, value=value, description=description)


def _scratch_dir() -> Path:
    """A folder for files generated at synth (seed CSV); CDK copies them into the cloud assembly."""
    directory = Path(tempfile.mkdtemp(prefix="churnguard-synth-"))
    atexit.register(shutil.rmtree, directory, ignore_errors=True)
    return directory
