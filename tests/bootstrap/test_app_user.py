"""churnguard.bootstrap.app_user: what is embedded in account DDL is checked first, and never shown."""

import string

import pytest

from churnguard.bootstrap.app_user import (
    APP_PRIVILEGES,
    PASSWORD_EXCLUDED_CHARACTERS,
    AppUser,
    api_aurora_role_statements,
    app_user_statements,
    aurora_role_statements,
    validate_password,
)
from churnguard.bootstrap.apply import BootstrapError

GOOD_PASSWORD = "Abc123!#$&()*+,-.<=>?[]^_{|}~xyz"


def test_a_password_of_allowed_characters_passes():
    validate_password(GOOD_PASSWORD)


@pytest.mark.parametrize("bad", ["'", '"', "\\", "`", ":", "%", "@", "/", ";", " ", "é", "\n", "\x00"])
def test_characters_that_could_break_out_of_the_literal_are_refused_without_echoing_them(bad):
    password = f"Abcdefgh1234{bad}tail"
    with pytest.raises(BootstrapError) as raised:
        validate_password(password)
    message = str(raised.value)
    assert "cannot be embedded in SQL" in message
    assert password not in message
    assert "tail" not in message


@pytest.mark.parametrize("length", [0, 11, 129])
def test_password_length_is_bounded(length):
    with pytest.raises(BootstrapError, match=f"it has {length}"):
        validate_password("a" * length)


def test_excluded_characters_are_exactly_the_punctuation_the_check_refuses():
    # infra/ passes PASSWORD_EXCLUDED_CHARACTERS to the secret generator: every password it can then
    # produce (letters, digits, the remaining punctuation) must pass validation.
    allowed_punctuation = "".join(c for c in string.punctuation if c not in PASSWORD_EXCLUDED_CHARACTERS)
    validate_password("Aa1" + allowed_punctuation + "z" * 10)
    for char in PASSWORD_EXCLUDED_CHARACTERS:
        with pytest.raises(BootstrapError):
            validate_password("Abcdefgh1234" + char)


@pytest.mark.parametrize("name", ["1app", "app-user", "app user", "a" * 33, "", "app'--"])
def test_user_names_that_are_not_plain_identifiers_are_refused(name):
    with pytest.raises(BootstrapError, match="database user name"):
        app_user_statements(AppUser(name, GOOD_PASSWORD), "churnguard")


def test_database_name_is_checked_before_embedding():
    with pytest.raises(BootstrapError, match="database name"):
        app_user_statements(AppUser("churnguard_app", GOOD_PASSWORD), "churn`guard")


def test_app_user_statements_create_set_password_and_grant_on_one_database():
    steps = app_user_statements(AppUser("churnguard_app", GOOD_PASSWORD), "churnguard")
    assert [step.sql for step in steps] == [
        f"CREATE USER IF NOT EXISTS 'churnguard_app'@'%' IDENTIFIED BY '{GOOD_PASSWORD}'",
        f"ALTER USER 'churnguard_app'@'%' IDENTIFIED BY '{GOOD_PASSWORD}'",
        "GRANT SELECT, INSERT, EXECUTE ON `churnguard`.* TO 'churnguard_app'@'%'",
        "GRANT UPDATE ON `churnguard`.`customer_scores` TO 'churnguard_app'@'%'",
        "GRANT UPDATE ON `churnguard`.`offer_outcomes` TO 'churnguard_app'@'%'",
    ]
    assert APP_PRIVILEGES == ("SELECT", "INSERT", "EXECUTE")
    assert all(GOOD_PASSWORD not in step.display for step in steps)
    assert steps[1].display == "ALTER USER 'churnguard_app'@'%' IDENTIFIED BY '***'"


@pytest.mark.parametrize(("bedrock", "extra"), [(False, ""), (True, ", AWS_BEDROCK_ACCESS")])
def test_aurora_role_statements_grant_the_four_roles_and_make_them_default(bedrock, extra):
    steps = aurora_role_statements("churnguard_app", bedrock=bedrock)
    roles = "AWS_SAGEMAKER_ACCESS, AWS_COMPREHEND_ACCESS, AWS_LOAD_S3_ACCESS, AWS_SELECT_S3_ACCESS" + extra
    assert [step.sql for step in steps] == [
        f"GRANT {roles} TO 'churnguard_app'@'%'",
        f"SET DEFAULT ROLE {roles} TO 'churnguard_app'@'%'",
    ]
    assert {step.source for step in steps} == {"aurora roles"}


@pytest.mark.parametrize(("bedrock", "extra"), [(False, ""), (True, ", AWS_BEDROCK_ACCESS")])
def test_the_api_user_gets_the_machine_learning_roles_and_never_the_s3_ones(bedrock, extra):
    steps = api_aurora_role_statements("churnguard_api", bedrock=bedrock)
    roles = "AWS_SAGEMAKER_ACCESS, AWS_COMPREHEND_ACCESS" + extra
    assert [step.sql for step in steps] == [
        f"GRANT {roles} TO 'churnguard_api'@'%'",
        f"SET DEFAULT ROLE {roles} TO 'churnguard_api'@'%'",
    ]
    assert not any("S3" in step.sql for step in steps)
    assert {step.source for step in steps} == {"api aurora roles"}


def test_app_user_repr_hides_the_password():
    assert GOOD_PASSWORD not in repr(AppUser("churnguard_app", GOOD_PASSWORD))
