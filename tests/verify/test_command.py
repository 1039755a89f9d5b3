"""`churnguard verify`'s options: the deploy's -c options (as `make verify CDK_ARGS=...` passes them),
the credentials and region checks, and option errors as one line."""

from __future__ import annotations

import pytest

from churnguard.cli import main
from churnguard.errors import UserError
from churnguard.teardown.clients import NO_CREDENTIALS_HELP


@pytest.fixture()
def no_aws_credentials(monkeypatch, tmp_path):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


@pytest.fixture()
def stack_options(monkeypatch) -> dict:
    """What verify asks connect_stack for; the run stops there with a UserError."""
    seen: dict = {}

    def connect_stack(**options):
        seen.update(options)
        raise UserError("stopped before AWS")

    monkeypatch.setattr("churnguard.verify.aws_target.connect_stack", connect_stack)
    return seen


def test_stage_region_and_model_dir_come_from_the_deploys_context(stack_options, trained_model_dir):
    code = main(
        [
            "verify",
            "-c",
            f"model_dir={trained_model_dir}",
            "-c",
            "stage=prod",
            "-c",
            "network=nat",
            "-c",
            "region=eu-west-1",
        ]
    )

    assert code == 2
    assert (stack_options["stage"], stack_options["region"]) == ("prod", "eu-west-1")


def test_explicit_options_win_over_the_context(stack_options, trained_model_dir):
    main(
        [
            "verify",
            "--model-dir",
            str(trained_model_dir),
            "--stage",
            "dev",
            "-c",
            "stage=prod",
            "--region",
            "us-east-1",
        ]
    )

    assert (stack_options["stage"], stack_options["region"]) == ("dev", "us-east-1")


def test_without_credentials_the_one_line_help_is_printed(no_aws_credentials, capsys, trained_model_dir):
    code = main(["verify", "--region", "eu-west-1", "--model-dir", str(trained_model_dir)])

    assert code == 2
    assert capsys.readouterr().err.strip() == f"churnguard verify: error: {NO_CREDENTIALS_HELP}"


def test_without_a_region_verify_asks_for_one(no_aws_credentials, monkeypatch, capsys, trained_model_dir):
    monkeypatch.delenv("AWS_REGION", raising=False)
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    code = main(["verify", "--model-dir", str(trained_model_dir)])

    assert code == 2
    assert "no AWS region: pass --region" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-c", "stage"], "-c 'stage' is not KEY=VALUE"),
        (["--area-code", "415"], "--area-code and --phone go together"),
        (["--area-code", "415", "--phone", "12"], "phone"),
        (["--admin-db-url", "mysql://root@h/db"], "--admin-db-url goes with --db-url"),
        (["--model-dir", "/nonexistent"], "no trained model in /nonexistent"),
        (["-c", "stgae=prod"], "unknown option 'stgae' (did you mean stage?); known options: "),
    ],
)
def test_bad_options_are_one_clear_line(capsys, args, message):
    code = main(["verify", *args])

    assert code == 2
    err = capsys.readouterr().err
    assert err.startswith("churnguard verify: error: ") and message in err and err.count("\n") == 1


def test_every_bad_deploy_option_is_named_at_once(capsys):
    assert main(["verify", "-c", "netwrok=nat", "-c", "stage=production"]) == 2
    err = capsys.readouterr().err
    assert "2 problems with the options:" in err
    assert "unknown option 'netwrok'" in err and "option stage='production' is not allowed" in err
