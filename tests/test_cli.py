"""The `churnguard` command's help: every option with a default says what it is."""

import argparse
import inspect

import pytest

from churnguard.aws_clients import missing_setup_message
from churnguard.cli import build_parser, main


def _all_parsers(parser: argparse.ArgumentParser):
    yield parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for subparser in action.choices.values():
                yield from _all_parsers(subparser)


def test_every_option_with_a_default_shows_it_in_help() -> None:
    missing = []
    for parser in _all_parsers(build_parser()):
        help_text = " ".join(parser.format_help().split())
        for action in parser._actions:
            default = action.default
            if not action.option_strings or default in (None, argparse.SUPPRESS) or isinstance(default, bool):
                continue
            if str(default) not in help_text:
                missing.append(f"{parser.prog} {action.option_strings[0]} (default {default})")
    assert missing == []


def test_train_help_names_its_output_folder_and_costs() -> None:
    train = next(p for p in _all_parsers(build_parser()) if p.prog.endswith(" train"))
    help_text = " ".join(train.format_help().split())
    assert "output folder (default: artifacts/model)" in help_text
    assert "cost of one lost customer (default: 500.0)" in help_text


@pytest.fixture
def no_aws_credentials(monkeypatch, tmp_path):
    """An environment where botocore finds no credentials anywhere (no instance metadata either)."""
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


def test_sagemaker_training_without_credentials_is_one_line_not_a_traceback(
    no_aws_credentials, tmp_path, capsys
) -> None:
    exit_code = main(
        [
            "train",
            "--sagemaker",
            "--bucket",
            "churnguard-data-bucket",
            "--role-arn",
            "arn:aws:iam::123456789012:role/churnguard-training",
            "--region",
            "us-east-1",
            "--rows",
            "500",
            "--out",
            str(tmp_path / "model"),
        ]
    )
    errors = capsys.readouterr().err
    assert exit_code == 2
    assert "churnguard train: error: no AWS credentials found: set AWS_PROFILE" in errors
    assert "Traceback" not in errors


def test_rejected_credentials_name_the_code_and_the_fix() -> None:
    from botocore.exceptions import ClientError

    expired = ClientError({"Error": {"Code": "ExpiredToken", "Message": "The security token expired"}}, "Op")
    throttled = ClientError({"Error": {"Code": "ThrottlingException", "Message": "slow down"}}, "Op")

    assert "rejected the credentials (ExpiredToken)" in missing_setup_message(expired)
    assert missing_setup_message(throttled) is None


def test_sagemaker_training_prints_no_sdk_noise(tmp_path) -> None:
    """In a fresh process (the SDK warns once per process) without make's environment."""
    import os
    import subprocess
    import sys

    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("AWS_") and key != "SAGEMAKER_SUPPRESS_V2_WARNING"
    }
    env.update(
        AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "none"),
        AWS_CONFIG_FILE=str(tmp_path / "none"),
        AWS_EC2_METADATA_DISABLED="true",
    )
    command = [sys.executable, "-m", "churnguard.cli", "train", "--sagemaker", "--region", "us-east-1"]
    command += ["--bucket", "churnguard-data-bucket", "--role-arn", "arn:aws:iam::123456789012:role/x"]
    command += ["--rows", "500", "--out", str(tmp_path / "model")]
    result = subprocess.run(
        command,
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    assert result.returncode == 2
    assert "no AWS credentials found" in result.stderr
    assert "SDK v2" not in result.stderr and "sagemaker.config INFO" not in result.stderr


def test_train_help_names_the_auc_margin_it_uses() -> None:
    from training.pipeline import train

    train_parser = next(p for p in _all_parsers(build_parser()) if p.prog.endswith(" train"))
    help_text = " ".join(train_parser.format_help().split())
    default = inspect.signature(train).parameters["auc_margin"].default
    assert f"full one's (default: {default})" in help_text
