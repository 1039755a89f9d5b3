"""From a failed check's error text to its likely cause and the fix, matched against what Aurora,
the Data API, SageMaker and the Function URL actually say (quoted in docs/verify.md).

Rules are tried in order, so a specific message (a missing parameter-group role) wins over a general
one (access denied). A rule may be limited to the checks where its cause makes sense: "Network
Connection" in the sentiment check means Comprehend is unreachable, in the S3 check that S3 is.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from churnguard.bootstrap.app_user import quoted_account
from churnguard.constants import API_USER_NAME
from churnguard.verify import names

NAT_REDEPLOY = (
    'redeploy with a NAT gateway: make deploy CDK_ARGS="-c network=nat" '
    "(then make verify with the same CDK_ARGS)"
)
ROLE_CHECK = (
    "aws rds describe-db-clusters --db-cluster-identifier {stack} --query 'DBClusters[0].AssociatedRoles' "
    "must list the role as ACTIVE, and the cluster parameter group must name its ARN in {parameter}; "
    "after changing the parameter, reboot the writer. `make deploy` with the same CDK_ARGS restores both"
)
GRANT_FIX = (
    "as the admin user: GRANT {role} TO '{user}'@'%'; SET DEFAULT ROLE ALL TO '{user}'@'%'; "
    "(or redeploy: the bootstrap grants the five AWS_* roles and makes them default roles)"
)
MODEL_MISMATCH_FIX = (
    "verify with the model you deployed ({verify_with_model}), or serve this model ({serve_model})"
)
# How to verify with, and serve, another model folder differs between AWS and the local stand-in: a fix
# is only useful if it works for the target it is printed for. A target's hints replace these (AWS's).
DEFAULT_HINTS: Mapping[str, str] = {
    "verify_with_model": "make verify OUT=<its folder>, or --model-dir <its folder>",
    "serve_model": "make deploy OUT=<folder>",
}
UNRECOGNISED_CAUSE = "not one of the failures churnguard recognises"
UNRECOGNISED_FIX = "read the error above and docs/verify.md; rerun with the same options once fixed"

# Aurora's own words when it cannot reach a service (ERROR 1871, 1873, 1815 in AWS's network page).
_NETWORK = (
    r"network connection|unable to connect|could not connect|connect timeout|timed out connecting"
    r"|Unable to initialize S3Stream"
)
_AI_CHECKS = frozenset({names.WILL_CHURN, names.CALL_CENTRE, names.RECOMMEND_API})


@dataclass(frozen=True)
class Diagnosis:
    cause: str
    fix: str


@dataclass(frozen=True)
class Rule:
    """`pattern` (case-insensitive regex) found in the error text of one of `checks` (None: any check)."""

    pattern: str
    cause: str
    fix: str
    checks: frozenset[str] | None = None

    def matches(self, check: str, text: str) -> bool:
        if self.checks is not None and check not in self.checks:
            return False
        return re.search(self.pattern, text, re.IGNORECASE) is not None


def _role_rule(parameter: str, service: str, checks: frozenset[str]) -> Rule:
    return Rule(
        pattern=parameter,
        cause=f"the cluster has no usable {service} role: it is not associated with the cluster, or its ARN "
        f"is not in {parameter} of the cluster parameter group (or the writer was not rebooted after that)",
        fix=ROLE_CHECK.replace("{parameter}", parameter),
        checks=checks,
    )


def _grant_rule(pattern: str, role: str) -> Rule:
    return Rule(
        pattern=pattern,
        cause=f"the application user lacks the {role} role, or holds it without it being active "
        "(Aurora MySQL 3 roles count only when set: a default role, SET ROLE or activate_all_roles_on_login)",
        fix=GRANT_FIX.replace("{role}", role),
    )


_CALL_REASON = frozenset({names.CALL_REASON})
MODEL_CHOICE = (
    "or deploy with another model: -c call_reason_model=<id> (aws bedrock list-foundation-models "
    "--region <region> lists them), or without call reasons: -c call_reasons=off"
)
# Bedrock's own words (InvokeModel's AccessDeniedException, ValidationException and
# ResourceNotFoundException), which Aurora passes on from call_reason_model; docs/verify.md.
BEDROCK_RULES: tuple[Rule, ...] = (
    Rule(
        r"(don't|do not) have access to the model|model access",
        "Amazon Bedrock has not enabled the call-reason model for this account in this region (model "
        "access is granted per model and region in the Bedrock console)",
        "open the Bedrock console in the stack's region, Model access, and enable the model named by "
        "-c call_reason_model (default Amazon Nova Micro, amazon.nova-micro-v1:0); then rerun verify; "
        + MODEL_CHOICE,
        _CALL_REASON,
    ),
    Rule(
        r"not authorized to perform: bedrock:",
        "the cluster's Bedrock role may not invoke the model (it is allowed bedrock:InvokeModel on the one "
        "foundation model -c call_reason_model names, in the stack's region)",
        "redeploy with the same CDK_ARGS; if aws_default_bedrock_role names another role, point it at "
        "the stack's BedrockRole",
        _CALL_REASON,
    ),
    Rule(
        r"model identifier is invalid|ResourceNotFoundException|not supported in this region"
        r"|could not resolve the foundation model",
        "the region has no such Bedrock model: the call-reason model is not offered in the stack's region "
        "(or -c call_reason_model is misspelt)",
        "deploy in a region that offers it (docs/infra.md lists Amazon Nova Micro's), " + MODEL_CHOICE,
        _CALL_REASON,
    ),
    Rule(
        r"FUNCTION \S*call_reason\w* does not exist",
        "the bootstrap has not created call_reason (a deploy from before call reasons, or one that failed)",
        "redeploy with the same CDK_ARGS (make deploy), then rerun verify",
    ),
    _role_rule("aws_default_bedrock_role", "Bedrock", _CALL_REASON),
    _grant_rule(r"AWS_BEDROCK_ACCESS", "AWS_BEDROCK_ACCESS"),
    Rule(
        _NETWORK,
        "Aurora cannot reach Amazon Bedrock from its subnets",
        "redeploy (the stack adds the bedrock-runtime interface endpoint when network=isolated), or "
        + NAT_REDEPLOY,
        _CALL_REASON,
    ),
)

_API_USER = frozenset({names.API_USER_GRANTS})
API_ACCOUNT = quoted_account(API_USER_NAME)
# Tried first for the API user's check: its findings name the AWS_* roles, which the general grant
# rules below would read as the app user lacking them.
API_USER_RULES: tuple[Rule, ...] = (
    Rule(
        r"the API user (holds|lacks|has)",
        "the API user's grants are not the ones the bootstrap gives it: changed by hand, or left by an "
        "earlier deploy (the bootstrap grants and sets default roles, it never revokes)",
        f"as the admin, revoke each extra one (REVOKE <privilege> ON <object> FROM {API_ACCOUNT}; REVOKE "
        f"<role> FROM {API_ACCOUNT}); redeploy (make deploy with the same CDK_ARGS) to grant a missing "
        "one and set the default roles again; locally: churnguard local down && churnguard local up",
        _API_USER,
    ),
    Rule(
        r"no such grant defined for user",
        f"the API user {API_USER_NAME} does not exist: the bootstrap has not created it (a deploy from "
        "before the API user, or one that failed; locally a database `churnguard local up` did not make)",
        "redeploy (make deploy with the same CDK_ARGS) and read the bootstrap function's log group if it "
        "fails; locally: churnguard local down && churnguard local up",
        _API_USER,
    ),
    Rule(
        r"to database 'mysql'|command denied to user .*(table|for) '?(user|default_roles|mysql)",
        "verify's admin connection may not read the mysql schema, which SHOW GRANTS for another account "
        "and mysql.default_roles need",
        "locally pass --admin-db-url with root's URL (or use --local); on AWS the cluster's admin user "
        "(AdminSecretArn) has it",
        _API_USER,
    ),
    Rule(
        r"verify cannot read",
        "SHOW GRANTS answered in a form verify does not know (another server version or a grant verify "
        "does not expect)",
        f"as the admin, read SHOW GRANTS FOR {API_ACCOUNT} and compare it with docs/bootstrap.md, "
        '"The API user"',
        _API_USER,
    ),
)

RULES: tuple[Rule, ...] = (
    *API_USER_RULES,
    *BEDROCK_RULES,
    Rule(
        r"still resuming|DatabaseStillResuming",
        "the cluster auto-paused (Aurora Serverless v2 at 0 ACU) and was still resuming when the wait "
        "ended; this is not a fault",
        "run verify again in a minute; to keep the cluster awake deploy with -c min_acu=0.5",
    ),
    Rule(
        r"DatabaseUnavailable",
        "the cluster's writer instance is not available (being created, modified, rebooted or failing over)",
        "aws rds describe-db-clusters --db-cluster-identifier {stack} --query 'DBClusters[0].Status' "
        "until it says available, then rerun",
    ),
    Rule(
        r"StatementTimeout",
        "a statement ran longer than the Data API's 45 s call limit",
        "rerun (a cold Aurora ML call or a large export can take longer the first time); if it keeps "
        "happening, export fewer rows than the whole customers table",
    ),
    Rule(
        r"Access denied for user",
        "the application user cannot log in: it does not exist, or its password is not the one in "
        "AppSecretArn (the bootstrap sets it on every deploy)",
        "redeploy (make deploy with the same CDK_ARGS) and read the bootstrap function's log group if "
        "it fails; locally check the URL's user and password",
    ),
    Rule(
        r"HttpEndpointNotEnabled",
        "the RDS Data API is not enabled on the cluster",
        "redeploy (the stack enables it), or: aws rds enable-http-endpoint --resource-arn <ClusterArn>",
    ),
    Rule(
        r"not authorized to perform: comprehend:",
        "the cluster's Comprehend role may not call comprehend:DetectSentiment/BatchDetectSentiment",
        "redeploy (the stack grants both to the role it names in aws_default_comprehend_role); if the "
        "parameter names another role, point it at the stack's",
    ),
    Rule(
        r"not authorized to perform: sagemaker:",
        "the cluster's SageMaker role may not invoke the endpoint (it is granted on the endpoint by name)",
        "redeploy; check that the endpoint is {endpoint} and that aws_default_sagemaker_role names the "
        "stack's role",
    ),
    Rule(
        r"not authorized to perform: s3:|S3 API returned error: Access Denied",
        "the cluster's S3 role may not read or write the export location (it is allowed only the data "
        "bucket's exports/, imports/ and tmp/ prefixes)",
        "redeploy; export only under those prefixes of the stack's DataBucketName",
    ),
    Rule(
        r"\(AccessDeniedException\) when calling the \w+ operation|not authorized to perform: "
        r"(rds-data|secretsmanager):",
        "your AWS identity may not call the Data API or read the stack's secrets",
        "use credentials allowed rds-data:ExecuteStatement on the cluster and secretsmanager:GetSecretValue "
        "on AppSecretArn and AdminSecretArn (the identity that deployed has both)",
    ),
    _role_rule("aws_default_comprehend_role", "Comprehend", frozenset({names.SENTIMENT, names.CALL_CENTRE})),
    _role_rule("aws_default_sagemaker_role", "SageMaker", _AI_CHECKS),
    _role_rule(
        r"aws_default_s3_role|aurora_load_from_s3_role|aurora_select_into_s3_role|Missing Credentials",
        "S3",
        frozenset({names.S3_EXPORT_LOAD}),
    ),
    Rule(
        _NETWORK,
        "Aurora cannot reach Amazon Comprehend from its subnets: with network=isolated there is no route to "
        "it (AWS documents VPC endpoints as an alternative to NAT only for S3, SageMaker and Lambda)",
        NAT_REDEPLOY,
        frozenset({names.SENTIMENT, names.CALL_CENTRE}),
    ),
    Rule(
        _NETWORK,
        "Aurora cannot reach Amazon S3 from its subnets (Aurora's ERROR 1871 'S3 API returned error: "
        "Network Connection')",
        "the S3 gateway endpoint must be on the database subnets' route tables; redeploy, or " + NAT_REDEPLOY,
        frozenset({names.S3_EXPORT_LOAD}),
    ),
    Rule(
        _NETWORK,
        "Aurora cannot reach the SageMaker runtime from its subnets",
        "redeploy (the stack adds the sagemaker-runtime endpoint when network=isolated), or " + NAT_REDEPLOY,
        _AI_CHECKS - {names.RECOMMEND_API},
    ),
    _grant_rule(r"AWS_SAGEMAKER_ACCESS|INVOKE SAGEMAKER", "AWS_SAGEMAKER_ACCESS"),
    _grant_rule(r"AWS_COMPREHEND_ACCESS|INVOKE COMPREHEND", "AWS_COMPREHEND_ACCESS"),
    _grant_rule(r"AWS_LOAD_S3_ACCESS|LOAD FROM S3 privilege", "AWS_LOAD_S3_ACCESS"),
    _grant_rule(r"AWS_SELECT_S3_ACCESS|SELECT INTO S3 privilege", "AWS_SELECT_S3_ACCESS"),
    Rule(
        r"secure-file-priv|Can't create/write to file|Errcode",
        "the database server cannot write verify's export file: the local export writes on the server's "
        "own disk, so a remote server, one running as another OS user, or one limited by secure_file_priv "
        "cannot use verify's temporary folder",
        "verify the server `churnguard local up` started (--local), or run verify on the server's machine "
        "as the user the server runs as",
        frozenset({names.S3_EXPORT_LOAD}),
    ),
    Rule(
        r"the FILE privilege",
        "the database user lacks the FILE privilege, which the local export and load need",
        "use --local (it uses the admin URL `local up` recorded) or pass --admin-db-url with root's URL",
    ),
    Rule(
        r"endpoint\b.*\b(not found|does not exist|could not be found)"
        r"|could not find endpoint|EndpointNotFound|ModelNotReady",
        "the SageMaker endpoint does not exist or is still being created (a new endpoint takes minutes, "
        "and a serverless one provisions on its first calls)",
        "aws sagemaker describe-endpoint --endpoint-name {endpoint} until EndpointStatus is InService, "
        "then rerun; if it is Failed, see its FailureReason and redeploy",
        _AI_CHECKS,
    ),
    Rule(
        r"ModelError|InternalFailure",
        "the SageMaker endpoint answered with an error",
        "read the endpoint's log group /aws/sagemaker/Endpoints/{endpoint}; redeploy if the model artifact "
        "is wrong",
        _AI_CHECKS,
    ),
    Rule(
        r"will_churn signature|out of step|Incorrect number of arguments",
        "the database's will_churn was installed from another model than the one verify was given",
        MODEL_MISMATCH_FIX,
    ),
    Rule(
        r"registry's live model is \w+, not",
        "the database's models registry names another live model than the one verify was given",
        MODEL_MISMATCH_FIX,
    ),
    Rule(
        r"no live model recorded|models are marked live|no models table|the function was replaced outside",
        "the database's models registry does not record the model will_churn serves",
        "redeploy the model folder you serve (make deploy OUT=<folder>); locally: churnguard local up "
        "--model <folder>",
    ),
    Rule(
        r"disagrees with the model",
        "will_churn answers with another model than the one in --model-dir (the endpoint serves a "
        "different artifact)",
        MODEL_MISMATCH_FIX,
    ),
    Rule(
        r"aws_comprehend_detect_sentiment\w*\b.*does not exist",
        "the Comprehend functions are missing: locally the stand-ins were not installed; on AWS the "
        "engine is not Aurora MySQL 3",
        "locally: churnguard local down && churnguard local up; on AWS: redeploy",
    ),
    Rule(
        r"will_churn\b.*does not exist|will_churn is not installed|\b1305\b",
        "will_churn is not installed in the database",
        "on AWS: redeploy (the bootstrap installs it; see its log group if the deploy failed); "
        "locally: churnguard local up --model <folder>",
    ),
    Rule(
        r"doesn't exist|\b1146\b",
        "the bootstrap SQL was not applied: a churnguard table is missing",
        "redeploy and read the bootstrap function's log group if it fails; locally: churnguard local up",
    ),
    Rule(
        r"command denied to user",
        "the application user lacks a privilege on the churnguard schema",
        "redeploy (the bootstrap grants SELECT, INSERT, EXECUTE on churnguard.*); locally: "
        "churnguard local down && churnguard local up",
    ),
    Rule(
        r"no customer",
        "the customer to test with is not in the customers table",
        "pass --area-code/--phone of a customer you loaded, or deploy with -c seed_sample_data=true",
    ),
    Rule(
        r"HTTP 403",
        "the Function URL refused the signed request: your identity lacks lambda:InvokeFunctionUrl (and, "
        "for URLs created since October 2025, lambda:InvokeFunction) on the API function, or your clock "
        "is off",
        "use the deploying identity, or allow it both actions on the function; sync the clock",
        frozenset({names.RECOMMEND_API}),
    ),
    Rule(
        r"HTTP 50[0-4]",
        "the API answered with a server error",
        "read the API function's log group (the answer's error names the kind of failure)",
        frozenset({names.RECOMMEND_API}),
    ),
    Rule(
        r"timed out|URLError|Name or service not known",
        "the Function URL did not answer in time, or is not reachable from here",
        "check your network to *.lambda-url.<region>.on.aws and rerun",
        frozenset({names.RECOMMEND_API}),
    ),
)


COGNITO_ADMIN_ACTIONS = (
    "cognito-idp:ListUsers, AdminCreateUser, AdminSetUserPassword, AdminInitiateAuth, "
    "AdminRespondToAuthChallenge and AdminDeleteUser"
)
CONSOLE_RULES: tuple[Rule, ...] = (
    Rule(
        r"could not delete verify's temporary agent",
        "verify could not delete the temporary agent it signed in with (the error before it, if any, is "
        "the first failure); the user has a random password nobody knows, but should not stay",
        "run the admin-delete-user command in the detail above with the deploying identity",
        frozenset({names.CONSOLE}),
    ),
    Rule(
        r"not authorized to perform: cognito-idp:",
        "your AWS identity may not manage the console's user pool: verify creates a temporary agent, "
        "signs it in and deletes it",
        f"use the deploying identity, or allow it {COGNITO_ADMIN_ACTIONS} on the pool "
        "(arn:aws:cognito-idp:<region>:<account>:userpool/<ConsoleUserPoolId>)",
        frozenset({names.CONSOLE}),
    ),
    Rule(
        r"flow not enabled for this client|no ConsoleUserPoolId/ConsoleClientId output",
        "the console was deployed by an older churnguard: its app client does not allow "
        "ADMIN_USER_PASSWORD_AUTH (the IAM-only sign-in verify uses), or the stack lacks its outputs",
        "redeploy with this version and the same CDK_ARGS (-c console=true), then rerun make verify",
        frozenset({names.CONSOLE}),
    ),
    Rule(
        r"CodeMismatchException|EnableSoftwareTokenMFAException|did not accept verify's authenticator code",
        "Cognito refused the authenticator code verify computed from the current time: this machine's "
        "clock is off by more than a 30-second step",
        "synchronise the clock (NTP, e.g. `timedatectl set-ntp true` or `chronyc makestep`) and rerun",
        frozenset({names.CONSOLE}),
    ),
    Rule(
        r"InvalidPasswordException",
        "the user pool's password policy asks for more than verify's 32-character password of upper and "
        "lower case letters, digits and symbols: it was changed outside the stack",
        "redeploy to restore the pool's policy (12 characters, all four classes), then rerun",
        frozenset({names.CONSOLE}),
    ),
    Rule(
        r"refused verify's signed-in token",
        "the console API's JWT authorizer rejects a valid access token of the console's pool: its "
        "audience is not the console's app client, or its issuer not the pool (changed outside the stack)",
        "redeploy with the same -c console=true (tests/infra/test_console.py checks audience and issuer)",
        frozenset({names.CONSOLE}),
    ),
    Rule(
        r"signed-in look-up answered HTTP 5\d\d database_",
        "the console's function signed in fine but could not read the database (the kind names how)",
        "see the database checks above (database_awake, bootstrap_sql); the console's function reads "
        "through the Data API as the app user, like the recommend API",
        frozenset({names.CONSOLE}),
    ),
    Rule(
        r"signed-in look-up answered HTTP 5\d\d",
        "the console's function failed on a signed-in call",
        "read the console function's log group (its log names the request and the error's type)",
        frozenset({names.CONSOLE}),
    ),
    Rule(
        r"TooManyRequestsException|HTTP 429",
        "Cognito or API Gateway throttled verify's calls",
        "rerun in a minute",
        frozenset({names.CONSOLE}),
    ),
    Rule(
        r"page answered HTTP 403",
        "CloudFront may not read the console's bucket (its origin access control or the bucket policy "
        "that names the distribution is missing), or the page was never uploaded",
        "redeploy with the same -c console=true; see docs/console.md",
        frozenset({names.CONSOLE}),
    ),
    Rule(
        r"HTTP 2\d\d to a call without a sign-in token",
        "the console API answers without a Cognito token: its routes are not behind the JWT authorizer",
        "take the console down now (make deploy with -c console=false), then redeploy it from this "
        "version, whose routes all require the authorizer (tests/infra/test_console.py)",
        frozenset({names.CONSOLE}),
    ),
    Rule(
        r"timed out|URLError|Name or service not known",
        "the console's CloudFront or API address did not answer in time, or is not reachable from here",
        "a new distribution takes minutes to deploy everywhere: rerun later; check your network",
        frozenset({names.CONSOLE}),
    ),
)
# First: a console failure often quotes an AWS error that a general rule below would misread.
RULES = CONSOLE_RULES + RULES


class _Hints(dict):
    """Placeholders the caller knows ({stack}, {endpoint}, {user}); unknown ones stay readable."""

    def __missing__(self, key: str) -> str:
        return f"<{key}>"


def diagnose(check: str, error_text: str, hints: Mapping[str, str] | None = None) -> Diagnosis:
    """The first matching rule's cause and fix, with `hints` filled in; a plain fallback otherwise."""
    values = _Hints({**DEFAULT_HINTS, **(hints or {})})
    for rule in RULES:
        if rule.matches(check, error_text):
            return Diagnosis(cause=rule.cause.format_map(values), fix=rule.fix.format_map(values))
    return Diagnosis(cause=UNRECOGNISED_CAUSE, fix=UNRECOGNISED_FIX)
