"""The API user's SHOW GRANTS, as MariaDB (the local stand-in) and MySQL 8.0 (Aurora MySQL 3) print it,
against what the bootstrap grants: a pass, an extra S3 role, an extra DELETE, a missing grant, a role
that is not a default role, and lines verify cannot read."""

from __future__ import annotations

import pytest

from churnguard.bootstrap.app_user import AppUser, api_aurora_role_statements, api_user_statements
from churnguard.verify.grants import (
    AccountGrants,
    Privilege,
    UnreadableGrant,
    expected_api_grants,
    grant_differences,
    grants_summary,
    parse_show_grants,
)
from tests.verify.aws_stubs import AURORA_API_USER_DEFAULT_ROLES, AURORA_API_USER_GRANTS

HASH = "*460F1DCED8CAC7194185245EB3587D5FCDFE07E7"
# Printed by MariaDB 10.11 for the user `churnguard local up` creates (create_api_user).
MARIADB = [
    f"GRANT USAGE ON *.* TO `churnguard_api`@`%` IDENTIFIED BY PASSWORD '{HASH}'",
    "GRANT EXECUTE ON `churnguard`.* TO `churnguard_api`@`%`",
    "GRANT INSERT ON `churnguard`.`offer_outcome_changes` TO `churnguard_api`@`%`",
    "GRANT SELECT ON `churnguard`.`models` TO `churnguard_api`@`%`",
    "GRANT SELECT, INSERT, UPDATE ON `churnguard`.`offer_outcomes` TO `churnguard_api`@`%`",
    "GRANT SELECT ON `churnguard`.`customer_messages` TO `churnguard_api`@`%`",
    "GRANT SELECT, INSERT ON `churnguard`.`offers_log` TO `churnguard_api`@`%`",
    "GRANT SELECT ON `churnguard`.`customers` TO `churnguard_api`@`%`",
]
# Aurora MySQL 3 (MySQL 8.0's form), with call reasons on Bedrock: the lines the AWS tests answer.
AURORA = list(AURORA_API_USER_GRANTS)
AURORA_DEFAULTS = frozenset(AURORA_API_USER_DEFAULT_ROLES)
LOCAL = expected_api_grants("churnguard", aurora=False, bedrock=False)
ON_AURORA = expected_api_grants("churnguard", aurora=True, bedrock=True)


def on_aurora(lines: list[str], default_roles: frozenset[str] = AURORA_DEFAULTS) -> AccountGrants:
    """As the check reads Aurora: SHOW GRANTS, plus the default roles from mysql.default_roles."""
    parsed = parse_show_grants(lines)
    return AccountGrants(parsed.privileges, parsed.roles, parsed.default_roles | default_roles)


def test_the_bootstraps_grants_pass_on_mariadb_and_on_aurora():
    assert parse_show_grants(MARIADB) == LOCAL
    assert grant_differences(parse_show_grants(MARIADB), LOCAL) == []
    assert grant_differences(on_aurora(AURORA), ON_AURORA) == []


def test_the_bootstraps_own_statements_grant_exactly_the_expected_set():
    """The expectation is derived from app_user's constants; the statements the bootstrap runs, read by
    the same parser, must grant the same (Aurora with call reasons on Bedrock here)."""
    user = AppUser("churnguard_api", "Secret-password-1")
    statements = [
        step.sql
        for step in [
            *api_user_statements(user, "churnguard"),
            *api_aurora_role_statements(user.name, bedrock=True),
        ]
        if step.sql.startswith("GRANT ")
    ]
    granted = parse_show_grants(statements)
    expected = expected_api_grants("churnguard", aurora=True, bedrock=True)
    assert (granted.privileges, granted.roles) == (expected.privileges, expected.roles)
    assert expected.default_roles == expected.roles  # SET DEFAULT ROLE names every role it grants
    without_bedrock = expected_api_grants("churnguard", aurora=True, bedrock=False)
    assert expected.roles - without_bedrock.roles == {"AWS_BEDROCK_ACCESS"}


def test_the_pass_says_what_is_held_and_what_is_not():
    assert grants_summary("churnguard_api", on_aurora(AURORA)) == (
        "churnguard_api holds what the bootstrap grants and nothing else: EXECUTE on churnguard.*; "
        "INSERT on 3 tables; SELECT on 5 tables; UPDATE on churnguard.offer_outcomes; default roles "
        "AWS_BEDROCK_ACCESS, AWS_COMPREHEND_ACCESS, AWS_SAGEMAKER_ACCESS; no S3 role, no DELETE, no schema "
        "change"
    )
    assert grants_summary("churnguard_api", parse_show_grants(MARIADB)).endswith(
        "UPDATE on churnguard.offer_outcomes; no role; no DELETE, no schema change"
    )


def test_an_s3_role_is_named_with_what_it_allows_on_mysql_8():
    lines = [
        *AURORA[:-1],
        AURORA[-1].replace(
            "`AWS_SAGEMAKER_ACCESS`@`%`", "`AWS_SAGEMAKER_ACCESS`@`%`,`AWS_LOAD_S3_ACCESS`@`%`"
        ),
    ]
    found = on_aurora(lines, AURORA_DEFAULTS | {"AWS_LOAD_S3_ACCESS"})

    assert grant_differences(found, ON_AURORA) == [
        "the API user holds AWS_LOAD_S3_ACCESS, which lets it load files from S3 into tables; the bootstrap "
        "does not grant it"
    ]


def test_an_s3_role_is_named_on_mariadb_with_its_default_role_line():
    lines = [
        *MARIADB,
        "GRANT `AWS_SELECT_S3_ACCESS` TO `churnguard_api`@`%`",
        "SET DEFAULT ROLE `AWS_SELECT_S3_ACCESS` FOR `churnguard_api`@`%`",
    ]

    assert grant_differences(parse_show_grants(lines), LOCAL) == [
        "the API user holds AWS_SELECT_S3_ACCESS, which lets it write query results to files in S3; the "
        "bootstrap does not grant it"
    ]


@pytest.mark.parametrize(
    ("lines", "read", "expected"),
    [(MARIADB, parse_show_grants, LOCAL), (AURORA, on_aurora, ON_AURORA)],
    ids=["mariadb", "mysql 8"],
)
def test_an_extra_delete_is_named_on_its_table(lines, read, expected):
    offers_log = "SELECT, INSERT ON `churnguard`.`offers_log`"
    lines = [
        line.replace(offers_log, "SELECT, INSERT, DELETE ON `churnguard`.`offers_log`") for line in lines
    ]

    assert grant_differences(read(lines), expected) == [
        "the API user holds DELETE on churnguard.offers_log, which lets it remove rows; the bootstrap does "
        "not grant it"
    ]


def test_a_missing_grant_and_a_missing_role_are_named():
    lines = [line for line in AURORA if "`models`" not in line]
    lines[-1] = "GRANT `AWS_SAGEMAKER_ACCESS`@`%` TO `churnguard_api`@`%`"

    assert grant_differences(on_aurora(lines, frozenset({"AWS_SAGEMAKER_ACCESS"})), ON_AURORA) == [
        "the API user lacks the role AWS_BEDROCK_ACCESS, which the bootstrap grants",
        "the API user lacks the role AWS_COMPREHEND_ACCESS, which the bootstrap grants",
        "the API user lacks SELECT on churnguard.models, which the bootstrap grants",
    ]


def test_a_granted_role_that_is_not_a_default_role_is_named():
    found = on_aurora(AURORA, AURORA_DEFAULTS - {"AWS_COMPREHEND_ACCESS"})

    assert grant_differences(found, ON_AURORA) == [
        "the API user holds AWS_COMPREHEND_ACCESS but not as a default role, so the API's connections do "
        "not have it active"
    ]


def test_grant_option_column_privileges_and_other_objects_each_count():
    lines = [
        *MARIADB,
        "GRANT SELECT, SELECT (`phone`, `state`), UPDATE (`state`) ON `churnguard`.`customers` TO "
        "`churnguard_api`@`%` WITH GRANT OPTION",
        "GRANT EXECUTE ON PROCEDURE `churnguard`.`refresh_customer_scores` TO `churnguard_api`@`%`",
        "GRANT SELECT ON `other db`.* TO `churnguard_api`@`%`",
    ]

    assert grant_differences(parse_show_grants(lines), LOCAL) == [
        "the API user holds EXECUTE on PROCEDURE churnguard.refresh_customer_scores; the bootstrap does not "
        "grant it",
        "the API user holds GRANT OPTION on churnguard.customers, which lets it pass its privileges on to "
        "other accounts; the bootstrap does not grant it",
        "the API user holds SELECT on `other db`.*; the bootstrap does not grant it",
        "the API user holds SELECT (phone, state) on churnguard.customers; the bootstrap does not grant it",
        "the API user holds UPDATE (state) on churnguard.customers, which lets it change rows already "
        "written; the bootstrap does not grant it",
    ]


def test_global_privileges_count_even_where_a_partial_revoke_narrows_them():
    lines = [
        "GRANT SELECT, FILE ON *.* TO `churnguard_api`@`%`",
        "REVOKE SELECT ON `mysql`.* FROM `churnguard_api`@`%`",
        *AURORA[1:],
    ]

    problems = grant_differences(on_aurora(lines), ON_AURORA)

    assert problems == [
        "the API user holds FILE on *.*, which lets it read and write files on the database server; the "
        "bootstrap does not grant it",
        "the API user holds SELECT on *.*; the bootstrap does not grant it",
    ]


def test_quoting_case_and_role_admin_option_are_read():
    found = parse_show_grants(
        [
            "grant select on 'churnguard'.\"customers\" to 'churnguard_api'@'%'",
            "GRANT `AWS_COMPREHEND_ACCESS` TO `churnguard_api`@`%` WITH ADMIN OPTION",
            "GRANT `reader`@`localhost` TO `churnguard_api`@`%`",
        ]
    )

    assert found.privileges == {
        Privilege("SELECT", "churnguard.customers"),
        Privilege("ADMIN OPTION", "role AWS_COMPREHEND_ACCESS"),
    }
    assert found.roles == {"AWS_COMPREHEND_ACCESS", "reader@localhost"}


@pytest.mark.parametrize(
    "line",
    [
        f"CREATE USER `churnguard_api`@`%` IDENTIFIED BY PASSWORD '{HASH}'",
        f"GRANT SELECT ON churnguard TO `churnguard_api`@`%` IDENTIFIED BY PASSWORD '{HASH}'",
        "GRANT SELECT ON `churnguard`.`customers`",
        "GRANT SELECT (phone ON `churnguard`.`customers` TO `churnguard_api`@`%`",
        "GRANT `AWS_SAGEMAKER_ACCESS`@ TO `churnguard_api`@`%`",
    ],
)
def test_a_line_verify_cannot_read_is_refused_without_the_password_hash(line):
    with pytest.raises(UnreadableGrant) as refused:
        parse_show_grants([*MARIADB, line])

    assert "verify cannot read" in str(refused.value)
    assert HASH not in str(refused.value)
