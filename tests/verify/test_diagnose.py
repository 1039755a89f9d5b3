"""Causes and fixes from the error texts Aurora, the Data API and SageMaker give (docs/verify.md quotes
the AWS pages they come from)."""

from __future__ import annotations

import pytest

from churnguard.verify import names
from churnguard.verify.diagnose import UNRECOGNISED_CAUSE, diagnose

HINTS = {"stack": "churnguard-prod", "endpoint": "churnguard-prod-churn", "user": "churnguard_app"}
BAD_REQUEST = (
    "BadRequestException: An error occurred (BadRequestException) "
    "when calling the ExecuteStatement operation: "
)


@pytest.mark.parametrize(
    ("check", "text", "cause", "fix"),
    [
        # Bedrock through call_reason_model: the usual three, in Bedrock's InvokeModel words
        (
            names.CALL_REASON,
            "Bedrock API returned error: AccessDeniedException: You don't have access to the model with "
            "the specified model ID.",
            "has not enabled the call-reason model",
            "Model access",
        ),
        (
            names.CALL_REASON,
            "Both aws_default_bedrock_role and the cluster's associated roles are not specified",
            "no usable Bedrock role",
            "aws_default_bedrock_role",
        ),
        (
            names.CALL_REASON,
            "Bedrock API returned error: ValidationException: The provided model identifier is invalid.",
            "the region has no such Bedrock model",
            "-c call_reason_model=<id>",
        ),
        (
            names.CALL_REASON,
            "Access denied; you need (at least one of) the AWS_BEDROCK_ACCESS privilege(s)",
            "lacks the AWS_BEDROCK_ACCESS role",
            "GRANT AWS_BEDROCK_ACCESS",
        ),
        (
            names.CALL_REASON,
            "Database error code: 1871. Message: Bedrock API returned error: Network Connection",
            "cannot reach Amazon Bedrock",
            "bedrock-runtime",
        ),
        (
            names.CALL_REASON,
            "FUNCTION churnguard.call_reason does not exist",
            "has not created call_reason",
            "redeploy",
        ),
        # "Enabling network communication from Amazon Aurora MySQL to other AWS services"
        (
            names.S3_EXPORT_LOAD,
            "Database error code: 1871. Message: S3 API returned error: Network Connection",
            "cannot reach Amazon S3",
            "S3 gateway endpoint",
        ),
        (
            names.S3_EXPORT_LOAD,
            "ERROR 1815 (HY000): Internal error: Unable to initialize S3Stream",
            "cannot reach Amazon S3",
            "network=nat",
        ),
        (
            names.SENTIMENT,
            "Database error code: 1871. Message: Comprehend API returned error: Network Connection",
            "cannot reach Amazon Comprehend",
            "-c network=nat",
        ),
        (
            names.WILL_CHURN,
            "SageMaker API returned error: Network Connection. Unable to connect to endpoint",
            "cannot reach the SageMaker runtime",
            "-c network=nat",
        ),
        (
            names.S3_EXPORT_LOAD,
            "S3 API returned error: Both aurora_load_from_s3_role and aws_default_s3_role are not specified",
            "no usable S3 role",
            "--db-cluster-identifier churnguard-prod",
        ),
        (
            names.S3_EXPORT_LOAD,
            "S3 API returned error: Missing Credentials: Cannot instantiate S3 Client",
            "no usable S3 role",
            "aws_default_s3_role",
        ),
        (
            names.SENTIMENT,
            "aws_default_comprehend_role is not set",
            "no usable Comprehend role",
            "aws_default_comprehend_role",
        ),
        (
            names.CALL_CENTRE,
            "Access denied; you need (at least one of) the AWS_COMPREHEND_ACCESS privilege(s)",
            "lacks the AWS_COMPREHEND_ACCESS role",
            "TO 'churnguard_app'@'%'",
        ),
        (
            names.WILL_CHURN,
            "Access denied; you need (at least one of) the INVOKE SAGEMAKER privilege(s)",
            "AWS_SAGEMAKER_ACCESS",
            "SET DEFAULT ROLE ALL",
        ),
        (
            names.S3_EXPORT_LOAD,
            "Access denied; you need (at least one of) the SELECT INTO S3 privilege(s)",
            "AWS_SELECT_S3_ACCESS",
            "GRANT AWS_SELECT_S3_ACCESS",
        ),
        (
            names.S3_EXPORT_LOAD,
            "Access denied; you need (at least one of) the LOAD FROM S3 privilege(s)",
            "AWS_LOAD_S3_ACCESS",
            "GRANT AWS_LOAD_S3_ACCESS",
        ),
        (
            names.WILL_CHURN,
            "ModelNotReadyException: serverless endpoint variant's resources are still being provisioned",
            "still being created",
            "--endpoint-name churnguard-prod-churn",
        ),
        (
            names.WILL_CHURN,
            "Endpoint churnguard-prod-churn of account 123456789012 not found.",
            "does not exist",
            "InService",
        ),
        (
            names.WILL_CHURN,
            "ModelError: Received server error (500) from primary",
            "answered with an error",
            "/aws/sagemaker/Endpoints/churnguard-prod-churn",
        ),
        (
            names.DATABASE_AWAKE,
            "DatabaseStillResuming: the Aurora cluster was still resuming after 9 attempts",
            "not a fault",
            "again in a minute",
        ),
        (
            names.DATABASE_AWAKE,
            "HttpEndpointNotEnabledException: HTTP endpoint not enabled",
            "Data API is not enabled",
            "enable-http-endpoint",
        ),
        (
            names.DATABASE_AWAKE,
            "AccessDeniedException: User: arn:aws:iam::1:user/x is not authorized to perform: "
            "rds-data:ExecuteStatement",
            "may not call the Data API",
            "secretsmanager:GetSecretValue",
        ),
        (
            names.BOOTSTRAP_SQL,
            "Database error code: 1146. Message: Table 'churnguard.offers_log' doesn't exist",
            "bootstrap SQL was not applied",
            "redeploy",
        ),
        (
            names.WILL_CHURN,
            "Database error code: 1318. Message: Incorrect number of arguments for FUNCTION "
            "churnguard.will_churn; expected 12, got 17",
            "another model",
            "--model-dir",
        ),
        (
            names.DATABASE_AWAKE,
            "DatabaseUnavailableException: The writer instance in the DB cluster isn't available.",
            "writer instance is not available",
            "--db-cluster-identifier churnguard-prod",
        ),
        (names.S3_EXPORT_LOAD, "StatementTimeoutException: request timed out", "45 s", "rerun"),
        (
            names.DATABASE_AWAKE,
            "Database error code: 1045. Message: Access denied for user 'churnguard_app'@'10.0.3.17'",
            "cannot log in",
            "redeploy",
        ),
        (
            names.SENTIMENT,
            "Database error code: 1871. Message: Comprehend API returned error: AccessDeniedException: "
            "User: arn:aws:sts::1:assumed-role/x/y is not authorized to perform: comprehend:DetectSentiment",
            "Comprehend role may not call",
            "aws_default_comprehend_role",
        ),
        (
            names.WILL_CHURN,
            "User: arn:aws:sts::1:assumed-role/x/y is not authorized to perform: sagemaker:InvokeEndpoint",
            "SageMaker role may not invoke",
            "churnguard-prod-churn",
        ),
        (names.S3_EXPORT_LOAD, "S3 API returned error: Access Denied", "S3 role may not", "DataBucketName"),
        (
            names.S3_EXPORT_LOAD,
            "(1, 'Can\\'t create/write to file \\'/tmp/churnguard-verify-x/customers.csv\\' (Errcode: 2)')",
            "cannot write verify's export file",
            "--local",
        ),
        (
            names.S3_EXPORT_LOAD,
            "(1290, 'The MariaDB server is running with the --secure-file-priv option')",
            "secure_file_priv",
            "--local",
        ),
    ],
)
def test_each_known_failure_gets_its_cause_and_fix(check, text, cause, fix):
    diagnosis = diagnose(check, BAD_REQUEST + text, HINTS)

    assert cause in diagnosis.cause
    assert fix in diagnosis.fix


@pytest.mark.parametrize(
    ("text", "cause", "fix"),
    [
        (
            "VerifyFailure: the API user holds AWS_LOAD_S3_ACCESS, which lets it load files from S3 into "
            "tables; the bootstrap does not grant it",
            "the API user's grants are not the ones the bootstrap gives it",
            "REVOKE <role> FROM 'churnguard_api'@'%'",
        ),
        (
            "VerifyFailure: the API user lacks SELECT on churnguard.models, which the bootstrap grants",
            "the API user's grants are not the ones the bootstrap gives it",
            "redeploy (make deploy with the same CDK_ARGS) to grant a missing one",
        ),
        (
            "VerifyFailure: the API user holds AWS_COMPREHEND_ACCESS but not as a default role, so the API's "
            "connections do not have it active",
            "the API user's grants are not the ones the bootstrap gives it",
            "set the default roles again",
        ),
        (
            BAD_REQUEST + "Database error code: 1141. Message: There is no such grant defined for user "
            "'churnguard_api' on host '%'",
            "the API user churnguard_api does not exist",
            "churnguard local up",
        ),
        (
            "StatementRefused: database error 1044: Access denied for user 'verify_1'@'127.0.0.1' to "
            "database 'mysql'",
            "may not read the mysql schema",
            "--admin-db-url",
        ),
        (
            "VerifyFailure: a SHOW GRANTS line verify cannot read: 'GRANT SELECT ON churnguard TO x'",
            "a form verify does not know",
            "SHOW GRANTS FOR 'churnguard_api'@'%'",
        ),
    ],
)
def test_the_api_users_grants_get_their_own_cause_and_fix(text, cause, fix):
    """Before the general rules: they would read AWS_LOAD_S3_ACCESS as the app user lacking that role,
    and `Access denied for user` as the app user failing to log in."""
    diagnosis = diagnose(names.API_USER_GRANTS, text, HINTS)

    assert cause in diagnosis.cause
    assert fix in diagnosis.fix


def test_a_network_failure_means_the_service_the_check_calls():
    text = "S3 API returned error: Network Connection"

    assert "S3" in diagnose(names.S3_EXPORT_LOAD, text).cause
    assert "Comprehend" in diagnose(names.SENTIMENT, text).cause


def test_a_request_signature_at_the_api_is_not_mistaken_for_will_churns():
    diagnosis = diagnose(
        names.RECOMMEND_API,
        "VerifyFailure: the API answered HTTP 403: The request signature we calculated does not match",
    )

    assert "refused the signed request" in diagnosis.cause


def test_an_unknown_error_says_so():
    diagnosis = diagnose(names.WILL_CHURN, "Database error code: 1205. Message: Lock wait timeout exceeded")

    assert diagnosis.cause == UNRECOGNISED_CAUSE


def test_unknown_placeholders_stay_readable():
    diagnosis = diagnose(names.WILL_CHURN, "Endpoint x not found")

    assert "--endpoint-name <endpoint>" in diagnosis.fix
