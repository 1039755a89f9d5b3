"""Options from CDK context: defaults, string/JSON values, and errors that name the option."""

from __future__ import annotations

from pathlib import Path

import pytest

from churnguard.errors import UserError
from infra.config import (
    DEFAULTS,
    OptionError,
    known_options,
    options_from_context,
    validate_options,
    validated_context,
)
from tests.infra.conftest import cdk_json_context


def options(**overrides: object):
    return validate_options({**DEFAULTS, **overrides}, repo_root=Path("/repo"))


def test_cdk_json_states_every_default() -> None:
    context = cdk_json_context()
    for key, default in DEFAULTS.items():
        assert context[key] == default, f"cdk.json context {key} differs from infra.config.DEFAULTS"


def test_defaults_are_the_cheap_private_configuration() -> None:
    chosen = options_from_context({}, repo_root=Path("/repo"))
    assert (chosen.stage, chosen.network, chosen.capacity) == ("dev", "nat", "serverless")
    assert chosen.availability_zones == (), "zones are chosen (and checked) at deploy time"
    assert chosen.min_acu == 0 and chosen.has_endpoint
    assert chosen.endpoint_mode == "serverless" and not chosen.seed_sample_data
    assert chosen.model_dir == Path("/repo/artifacts/model")
    assert chosen.stack_name == "churnguard-dev"
    assert chosen.engine_version == "8.0.mysql_aurora.3.10.4", "the Aurora MySQL 3.10 LTS release"


def test_command_line_strings_are_parsed() -> None:
    chosen = options(stage="PROD", min_acu="0.5", max_acu="16", seed_sample_data="true", seed_rows="300")
    assert chosen.is_prod and chosen.min_acu == 0.5 and chosen.max_acu == 16.0
    assert chosen.seed_sample_data is True and chosen.seed_rows == 300
    assert chosen.endpoint_name == "churnguard-prod-churn"


def test_in_database_mode_has_no_endpoint() -> None:
    assert not options(inference_mode="in_database").has_endpoint


def test_absolute_model_dir_is_kept() -> None:
    assert options(model_dir="/data/model").model_dir == Path("/data/model")


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("stage", "production", "stage='production' is not allowed; use one of: dev, prod"),
        ("network", "public", "network='public' is not allowed; use one of: isolated, nat"),
        ("capacity", "v1", "capacity='v1' is not allowed; use one of: serverless, provisioned"),
        ("inference_mode", "sagemaker", "inference_mode='sagemaker' is not allowed; use one of: endpoint"),
        ("endpoint_mode", "async", "endpoint_mode='async' is not allowed; use one of: serverless, realtime"),
        ("seed_sample_data", "yes", "seed_sample_data='yes' is not allowed; use one of: true, false"),
        ("min_acu", "0.3", "min_acu='0.3' is not allowed; use 0 to 256 in steps of 0.5"),
        ("min_acu", "lots", "min_acu='lots' is not a number"),
        ("max_acu", "0.5", "max_acu='0.5' is not allowed; use 1 to 256 in steps of 0.5"),
        ("max_acu", "512", "max_acu='512' is not allowed"),
        (
            "auto_pause_minutes",
            "2",
            "auto_pause_minutes='2' is not allowed; use a whole number from 5 to 1440",
        ),
        ("endpoint_memory_mb", "1500", "endpoint_memory_mb='1500' is not allowed; use one of: 1024, 2048"),
        ("endpoint_max_concurrency", "0", "endpoint_max_concurrency='0' is not allowed"),
        ("instance_class", "db.r6g.large", "instance_class='db.r6g.large' is not valid; use a class such as"),
        ("endpoint_instance_type", "m5.large", "endpoint_instance_type='m5.large' is not valid"),
        (
            "backup_retention_days",
            "0",
            "backup_retention_days='0' is not allowed; use a whole number from 1 to 35",
        ),
        ("seed_rows", "1.5", "seed_rows='1.5' is not allowed"),
        ("availability_zones", "us-east-1a", "availability_zones='us-east-1a' is not valid; use two zones"),
        ("availability_zones", "us-east-1a,us-west-2a", "availability_zones='us-east-1a,us-west-2a' is not"),
        ("availability_zones", "use1-az1,use1-az2", "availability_zones='use1-az1,use1-az2' is not valid"),
        ("availability_zones", "us-east-1a,us-east-1a", "availability_zones='us-east-1a,us-east-1a' is not"),
        ("asset_key_arn", "alias/cdk", "asset_key_arn='alias/cdk' is not valid; use a KMS key ARN"),
        ("asset_key_arn", "1234abcd-12ab-34cd-56ef-1234567890ab", "asset_key_arn='1234abcd-12ab-34cd-56ef-"),
        ("engine_version", "3.10.4", "engine_version='3.10.4' is not valid; use an Aurora MySQL 3 version"),
        ("engine_version", "8.4.mysql_aurora.4.0.0", "engine_version='8.4.mysql_aurora.4.0.0' is not valid"),
        ("engine_version", "5.7.mysql_aurora.2.12.5", "engine_version='5.7.mysql_aurora.2.12.5' is not"),
    ],
)
def test_invalid_option_is_rejected_naming_it(key: str, value: str, expected: str) -> None:
    with pytest.raises(OptionError) as raised:
        options(**{key: value})
    assert f"option {expected}" in str(raised.value)
    assert isinstance(raised.value, UserError)  # the CLI prints it as one line, exit code 2


def test_min_acu_above_max_acu_is_rejected() -> None:
    with pytest.raises(OptionError, match=r"option min_acu \(8\) must not exceed max_acu \(4\)"):
        options(min_acu="8", max_acu="4")


def test_json_booleans_from_cdk_json_are_accepted() -> None:
    assert options(seed_sample_data=True).seed_sample_data is True
    with pytest.raises(OptionError, match="option seed_rows=True is not a whole number"):
        options(seed_rows=True)


def test_availability_zones_accept_a_comma_list_or_a_json_list() -> None:
    assert options(availability_zones=" us-east-1a, us-east-1c ").availability_zones == (
        "us-east-1a",
        "us-east-1c",
    )
    assert options(availability_zones=["eu-west-1b", "eu-west-1c"]).availability_zones == (
        "eu-west-1b",
        "eu-west-1c",
    )
    assert options(availability_zones="").availability_zones == ()


def test_asset_key_arn_is_empty_by_default_and_kept_when_it_names_a_key() -> None:
    assert options().asset_key_arn == ""
    arn = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    assert options(asset_key_arn=f" {arn} ").asset_key_arn == arn


def test_another_engine_version_is_taken_as_given() -> None:
    older = options(engine_version=" 8.0.mysql_aurora.3.04.6 ", call_reasons="off")
    assert older.engine_version == "8.0.mysql_aurora.3.04.6"
    assert options(engine_version="8.0.mysql_aurora.3.06.1").engine_version == "8.0.mysql_aurora.3.06.1"


def test_call_reasons_through_bedrock_need_aurora_3_06_or_later() -> None:
    with pytest.raises(OptionError) as refused:
        options(engine_version="8.0.mysql_aurora.3.05.0.1")
    assert "call_reasons=bedrock needs Aurora MySQL 3.06 or later" in str(refused.value)
    assert "-c call_reasons=off" in str(refused.value)


def test_the_default_engine_version_is_one_the_installed_cdk_knows() -> None:
    from aws_cdk import aws_rds as rds

    assert DEFAULTS["engine_version"] == rds.AuroraMysqlEngineVersion.VER_3_10_4.aurora_mysql_full_version


def test_a_misspelt_option_is_refused_naming_it_and_the_known_ones() -> None:
    with pytest.raises(OptionError) as raised:
        options_from_context({**cdk_json_context(), "netwrok": "isolated"}, repo_root=Path("/repo"))
    message = str(raised.value)
    assert message.startswith("unknown option 'netwrok' (did you mean network?); known options: ")
    assert message.endswith(", ".join(known_options()))
    assert "\n" not in message


def test_every_bad_option_is_reported_at_once() -> None:
    context = {**cdk_json_context(), "netwrok": "isolated", "stage": "production", "min_acu": "0.3"}
    with pytest.raises(OptionError) as raised:
        options_from_context(context, repo_root=Path("/repo"))
    lines = str(raised.value).splitlines()
    assert lines[0] == "3 problems with the options:"
    assert lines[1].startswith("  unknown option 'netwrok'")
    assert "  option min_acu='0.3' is not allowed; use 0 to 256 in steps of 0.5" in lines
    assert "  option stage='production' is not allowed; use one of: dev, prod" in lines


def test_min_acu_above_max_acu_is_reported_with_the_other_problems() -> None:
    with pytest.raises(OptionError) as raised:
        options(min_acu="8", max_acu="4", network="public")
    assert "option min_acu (8) must not exceed max_acu (4)" in str(raised.value)
    assert "option network='public'" in str(raised.value)


def test_the_cdk_clis_own_context_keys_are_not_options_and_not_refused() -> None:
    # What the CDK CLI adds to the app's context (cdk.json's feature flags, its own settings, lookups).
    context = {
        **cdk_json_context(),
        "aws:cdk:enable-path-metadata": True,
        "aws:cdk:enable-asset-metadata": True,
        "aws:cdk:version-reporting": True,
        "aws:cdk:bundling-stacks": ["**"],
        "@aws-cdk/core:newStyleStackSynthesis": True,
        "availability-zones:account=123456789012:region=eu-west-1": ["eu-west-1a"],
        "acknowledged-issue-numbers": [34892],
        "cli-telemetry": False,
        "region": "eu-west-1",  # read by verify and preflight
    }
    assert options_from_context(context, repo_root=Path("/repo")).stage == "dev"


def test_a_commands_context_pairs_are_checked_like_the_apps() -> None:
    chosen, given = validated_context(["stage=prod", "region=eu-west-1"])
    assert chosen.is_prod and given == {"stage": "prod", "region": "eu-west-1"}
    with pytest.raises(OptionError, match="-c 'stage' is not KEY=VALUE"):
        validated_context(["stage"])
    with pytest.raises(OptionError, match="unknown option 'stgae' \\(did you mean stage\\?\\)"):
        validated_context(["stgae=prod"])
