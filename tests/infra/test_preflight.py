"""The deploy pre-flight against botocore's Stubber: answers shaped like RDS's and STS's (validated by the
Stubber against botocore's service model), no network."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from churnguard.cli import main
from infra.config import DEFAULTS, validate_options
from infra.deploy_regions import RegionError
from infra.preflight import (
    CONNECT_TIMEOUT_S,
    READ_TIMEOUT_S,
    PreflightError,
    check_engine,
    preflight_client,
    run_preflight,
)

REGION = "eu-west-1"
ACCOUNT = "123456789012"
LTS = "8.0.mysql_aurora.3.10.4"
NEWER_LTS_PATCH = "8.0.mysql_aurora.3.10.5"


def options(**overrides: Any):
    return validate_options({**DEFAULTS, **overrides}, repo_root=Path("/repo"))


def engine_version(version: str, *, min_capacity: float = 0.0, max_capacity: float = 256.0) -> dict[str, Any]:
    """One DBEngineVersions entry as RDS describes an Aurora MySQL 3 version (trimmed to real fields)."""
    minor = version.rsplit("mysql_aurora.", 1)[1]
    return {
        "Engine": "aurora-mysql",
        "EngineVersion": version,
        "MajorEngineVersion": "8.0",
        "DBParameterGroupFamily": "aurora-mysql8.0",
        "DBEngineDescription": "Aurora MySQL",
        "DBEngineVersionDescription": f"Aurora MySQL {minor} (compatible with MySQL 8.0.42)",
        "ExportableLogTypes": ["audit", "error", "general", "slowquery"],
        "SupportsLogExportsToCloudwatchLogs": True,
        "SupportsReadReplica": False,
        "SupportedEngineModes": ["provisioned"],
        "Status": "available",
        "SupportsParallelQuery": False,
        "SupportsGlobalDatabases": True,
        "SupportsBabelfish": False,
        "SupportsLocalWriteForwarding": True,
        "SupportsIntegrations": True,
        "ServerlessV2FeaturesSupport": {"MinCapacity": min_capacity, "MaxCapacity": max_capacity},
    }


def orderable(version: str, instance_class: str = "db.serverless") -> dict[str, Any]:
    """One OrderableDBInstanceOptions entry as RDS answers for an Aurora MySQL writer class."""
    return {
        "Engine": "aurora-mysql",
        "EngineVersion": version,
        "DBInstanceClass": instance_class,
        "LicenseModel": "general-public-license",
        "AvailabilityZones": [{"Name": f"{REGION}{zone}"} for zone in "abc"],
        "MultiAZCapable": True,
        "ReadReplicaCapable": False,
        "Vpc": True,
        "SupportsStorageEncryption": True,
        "StorageType": "aurora",
        "SupportsIops": False,
        "SupportsEnhancedMonitoring": True,
        "SupportsIAMDatabaseAuthentication": True,
        "SupportsPerformanceInsights": True,
        "SupportedEngineModes": ["provisioned"],
        "SupportsClusters": True,
        "SupportedNetworkTypes": ["IPV4", "DUAL"],
    }


VERSIONS_REQUEST = {
    "Engine": "aurora-mysql",
    "DBParameterGroupFamily": "aurora-mysql8.0",
    "MaxRecords": 100,
}


def orderable_request(version: str, instance_class: str = "db.serverless") -> dict[str, Any]:
    return {
        "Engine": "aurora-mysql",
        "EngineVersion": version,
        "DBInstanceClass": instance_class,
        "MaxRecords": 20,
    }


def listing_request(instance_class: str = "db.serverless") -> dict[str, Any]:
    return {"Engine": "aurora-mysql", "DBInstanceClass": instance_class, "MaxRecords": 100}


def offers(stubber: Stubber, version: str, instance_class: str = "db.serverless") -> None:
    """RDS answers for a region offering `version` alone, orderable as `instance_class`."""
    stubber.add_response(
        "describe_db_engine_versions", {"DBEngineVersions": [engine_version(version)]}, VERSIONS_REQUEST
    )
    stubber.add_response(
        "describe_orderable_db_instance_options",
        {"OrderableDBInstanceOptions": [orderable(version, instance_class)]},
        orderable_request(version, instance_class),
    )


@pytest.fixture
def rds():
    client = boto3.client(
        "rds", region_name=REGION, aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="secret"
    )
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def test_an_offered_and_orderable_version_passes(rds) -> None:
    client, stubber = rds
    stubber.add_response(
        "describe_db_engine_versions",
        {"DBEngineVersions": [engine_version("8.0.mysql_aurora.3.04.6"), engine_version(LTS)]},
        VERSIONS_REQUEST,
    )
    stubber.add_response(
        "describe_orderable_db_instance_options",
        {"OrderableDBInstanceOptions": [orderable(LTS)]},
        orderable_request(LTS),
    )

    found = check_engine(client, options(), REGION)

    assert found == f"Aurora MySQL {LTS} is offered in {REGION} and orderable as db.serverless"


def test_a_version_the_region_lacks_is_refused_naming_the_ones_it_offers(rds) -> None:
    client, stubber = rds
    offered = ["8.0.mysql_aurora.3.04.6", NEWER_LTS_PATCH, "8.0.mysql_aurora.3.11.1"]
    # Two pages: the pre-flight follows RDS's Marker.
    stubber.add_response(
        "describe_db_engine_versions",
        {"DBEngineVersions": [engine_version(offered[0])], "Marker": "page-2"},
        VERSIONS_REQUEST,
    )
    stubber.add_response(
        "describe_db_engine_versions",
        {"DBEngineVersions": [engine_version(version) for version in offered[1:]]},
        {**VERSIONS_REQUEST, "Marker": "page-2"},
    )
    stubber.add_response(
        "describe_orderable_db_instance_options",
        {"OrderableDBInstanceOptions": [orderable(version) for version in offered]},
        listing_request(),
    )

    with pytest.raises(PreflightError) as refused:
        check_engine(client, options(), REGION)

    message = str(refused.value)
    assert message == (
        f"Aurora MySQL {LTS} is not offered in {REGION} (RDS DescribeDBEngineVersions); offered there as "
        "db.serverless: 8.0.mysql_aurora.3.04.6, 8.0.mysql_aurora.3.10.5, 8.0.mysql_aurora.3.11.1; "
        f"deploy with -c engine_version={NEWER_LTS_PATCH}"
    )
    assert "\n" not in message


def test_a_version_not_orderable_for_serverless_v2_is_refused(rds) -> None:
    client, stubber = rds
    stubber.add_response(
        "describe_db_engine_versions",
        {"DBEngineVersions": [engine_version(LTS), engine_version("8.0.mysql_aurora.3.11.1")]},
        VERSIONS_REQUEST,
    )
    stubber.add_response(
        "describe_orderable_db_instance_options", {"OrderableDBInstanceOptions": []}, orderable_request(LTS)
    )
    stubber.add_response(
        "describe_orderable_db_instance_options",
        {"OrderableDBInstanceOptions": [orderable("8.0.mysql_aurora.3.11.1")]},
        listing_request(),
    )

    with pytest.raises(PreflightError) as refused:
        check_engine(client, options(), REGION)

    assert str(refused.value) == (
        f"Aurora MySQL {LTS} cannot be ordered as db.serverless in {REGION} (RDS "
        "DescribeOrderableDBInstanceOptions); offered there as db.serverless: 8.0.mysql_aurora.3.11.1; "
        "deploy with -c engine_version=8.0.mysql_aurora.3.11.1"
    )


def test_a_provisioned_writer_is_checked_with_its_own_class(rds) -> None:
    client, stubber = rds
    offers(stubber, LTS, "db.r7g.large")

    found = check_engine(client, options(capacity="provisioned", instance_class="r7g.large"), REGION)

    assert found.endswith("orderable as db.r7g.large")


def test_a_version_without_auto_pause_is_refused_when_min_acu_is_zero(rds) -> None:
    client, stubber = rds
    old = "8.0.mysql_aurora.3.04.6"
    stubber.add_response(
        "describe_db_engine_versions",
        {"DBEngineVersions": [engine_version(old, min_capacity=0.5, max_capacity=128.0)]},
        VERSIONS_REQUEST,
    )

    with pytest.raises(PreflightError, match=r"cannot pause at 0 ACU .* deploy with -c min_acu=0\.5"):
        check_engine(client, options(engine_version=old, call_reasons="off"), REGION)


def test_the_alternatives_leave_out_versions_that_cannot_pause(rds) -> None:
    client, stubber = rds
    stubber.add_response(
        "describe_db_engine_versions",
        {
            "DBEngineVersions": [
                engine_version("8.0.mysql_aurora.3.04.6", min_capacity=0.5),
                engine_version("8.0.mysql_aurora.3.11.1"),
            ]
        },
        VERSIONS_REQUEST,
    )
    stubber.add_response(
        "describe_orderable_db_instance_options",
        {
            "OrderableDBInstanceOptions": [
                orderable("8.0.mysql_aurora.3.04.6"),
                orderable("8.0.mysql_aurora.3.11.1"),
            ]
        },
        listing_request(),
    )

    with pytest.raises(PreflightError) as refused:
        check_engine(client, options(), REGION)

    assert "offered there as db.serverless: 8.0.mysql_aurora.3.11.1;" in str(refused.value)


def test_access_denied_names_the_read_only_actions_to_allow(rds) -> None:
    client, stubber = rds
    stubber.add_client_error(
        "describe_db_engine_versions",
        "AccessDenied",
        "User is not authorized",
        403,
        expected_params=VERSIONS_REQUEST,
    )

    with pytest.raises(PreflightError) as refused:
        check_engine(client, options(), REGION)

    assert str(refused.value) == (
        "AWS refused the pre-deploy check (AccessDenied): allow rds:DescribeDBEngineVersions and "
        "rds:DescribeOrderableDBInstanceOptions (read-only) to these credentials"
    )


def stubbed_clients(rds_client: Any) -> tuple[Any, Stubber]:
    sts = boto3.client(
        "sts", region_name=REGION, aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="secret"
    )
    stubber = Stubber(sts)
    stubber.add_response(
        "get_caller_identity",
        {"UserId": "AIDAEXAMPLE", "Account": ACCOUNT, "Arn": f"arn:aws:iam::{ACCOUNT}:user/deployer"},
        {},
    )
    return {"sts": sts, "rds": rds_client}, stubber


def credentialled_session(region: str = REGION) -> boto3.Session:
    return boto3.Session(aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="secret", region_name=region)


def test_the_whole_preflight_names_the_account_and_region(rds) -> None:
    client, stubber = rds
    offers(stubber, LTS)
    clients, sts_stubber = stubbed_clients(client)

    with sts_stubber:
        line = run_preflight(
            options(), session=credentialled_session(), client=lambda service, session: clients[service]
        )

    assert line == (
        f"preflight passed for account {ACCOUNT} in {REGION}: Aurora MySQL {LTS} is offered in {REGION} "
        "and orderable as db.serverless"
    )


def test_a_region_without_aurora_ml_and_comprehend_is_refused_before_asking_aws() -> None:
    def no_client(service: str, session: boto3.Session) -> Any:
        raise AssertionError(f"no {service} call may be made for a region that cannot run churnguard")

    with pytest.raises(RegionError, match=r"region eu-north-1 cannot run churnguard"):
        run_preflight(options(), session=credentialled_session("eu-north-1"), client=no_client)


def test_expired_credentials_are_one_line_naming_the_fix() -> None:
    sts = boto3.client(
        "sts", region_name=REGION, aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="secret"
    )
    with Stubber(sts) as stubber:
        stubber.add_client_error(
            "get_caller_identity", "ExpiredToken", "The security token included has expired"
        )
        with pytest.raises(PreflightError, match=r"AWS rejected the credentials \(ExpiredToken\).*rerun"):
            run_preflight(options(), session=credentialled_session(), client=lambda service, session: sts)


def test_a_different_region_option_than_the_credentials_region_is_refused() -> None:
    with pytest.raises(
        PreflightError, match=r"-c region=us-east-1, but cdk deploy would deploy to eu-west-1"
    ):
        run_preflight(options(), requested_region="us-east-1", session=credentialled_session())


def test_each_aws_call_is_one_attempt_with_bounded_timeouts() -> None:
    config = preflight_client("rds", credentialled_session()).meta.config
    assert config.retries["total_max_attempts"] == 1
    assert (config.connect_timeout, config.read_timeout) == (CONNECT_TIMEOUT_S, READ_TIMEOUT_S)


@pytest.fixture
def no_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/dev/null")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_REGION", REGION)


def test_without_credentials_the_command_refuses_in_one_line_at_once(no_credentials, capsys) -> None:
    started = time.monotonic()
    code = main(["preflight"])
    elapsed = time.monotonic() - started

    captured = capsys.readouterr()
    assert code == 2 and captured.out == ""
    assert captured.err.count("\n") == 1
    assert captured.err.startswith(
        "churnguard preflight: error: no AWS credentials found, so nothing was deployed"
    )
    assert elapsed < 5


def test_a_missing_profile_is_one_line_naming_it(no_credentials, monkeypatch, capsys) -> None:
    monkeypatch.setenv("AWS_PROFILE", "nonexistent")
    assert main(["preflight"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "AWS_PROFILE='nonexistent' names no profile" in err


def test_bad_options_are_refused_before_any_aws_question(no_credentials, capsys) -> None:
    # Credentials are missing too, but the options are judged first, all of them.
    assert main(["preflight", "-c", "netwrok=isolated", "-c", "engine_version=3.10.4"]) == 2
    err = capsys.readouterr().err
    assert "unknown option 'netwrok' (did you mean network?)" in err
    assert "option engine_version='3.10.4' is not valid" in err
    assert "credentials" not in err


def test_the_region_is_aws_region_as_the_cdk_cli_reads_it(no_credentials, monkeypatch, capsys) -> None:
    # boto3 alone ignores AWS_REGION; cdk deploy does not. With (made-up) keys and AWS_REGION only, the
    # region is known and judged before any AWS call.
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    monkeypatch.setenv("AWS_REGION", "eu-north-1")

    assert main(["preflight"]) == 2
    assert "region eu-north-1 cannot run churnguard" in capsys.readouterr().err
