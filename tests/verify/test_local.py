"""`churnguard verify` against a real local MariaDB prepared like a deploy: every check passes, and
breaking one thing the call centre needs makes the right check fail with the right cause and fix."""

from __future__ import annotations

import json
from contextlib import closing
from pathlib import Path

import pytest

from churnguard.cli import main
from churnguard.lifecycle.identity import read_identity
from churnguard.local.state import LocalServer, write_state
from churnguard.model_folder import ModelFolder
from churnguard.verify.checks import SENTENCE

pytestmark = pytest.mark.mariadb

CHECK_NAMES = [
    "database_awake",
    "bootstrap_sql",
    "api_user_grants",
    "comprehend_sentiment",
    "bedrock_call_reason",
    "will_churn",
    "s3_export_load",
    "call_centre_statement",
    "recommend_api",
    "agent_console",
]


def verify_json(capsys, *args: str) -> tuple[int, dict]:
    code = main(["verify", "--json", *args])
    out = capsys.readouterr().out
    return code, json.loads(out)


def by_name(report: dict) -> dict[str, dict]:
    return {check["name"]: check for check in report["checks"]}


def db_args(database, *, admin: bool = True) -> list[str]:
    args = ["--db-url", database.app_url, "--model-dir", str(database.model_dir)]
    return [*args, "--admin-db-url", database.admin_url] if admin else args


def database_statuses(report: dict) -> set[str]:
    """The statuses of every check but the deployed console's, which is skipped locally."""
    return {check["status"] for check in report["checks"] if check["name"] != "agent_console"}


def test_every_check_passes_and_verify_leaves_nothing_behind(verify_database, capsys):
    code, report = verify_json(capsys, *db_args(verify_database))

    assert code == 0
    assert [check["name"] for check in report["checks"]] == CHECK_NAMES
    assert database_statuses(report) == {"pass"}, report
    assert by_name(report)["agent_console"]["status"] == "skip"  # the deployed console's check
    for check in report["checks"]:
        assert set(check) == {"name", "status", "seconds", "detail"}
        assert check["seconds"] >= 0
    checks = by_name(report)
    assert "415/358-1921" in checks["will_churn"]["detail"]
    model_id = read_identity(verify_database.model_dir).model_id
    assert checks["bootstrap_sql"]["detail"].endswith(f"live model {model_id}, named by will_churn's COMMENT")
    assert "300 customers exported" in checks["s3_export_load"]["detail"]
    assert checks["api_user_grants"]["detail"].startswith(
        "churnguard_api holds what the bootstrap grants and nothing else: EXECUTE on verify_"
    )
    assert checks["api_user_grants"]["detail"].endswith("; no role; no DELETE, no schema change")
    with closing(verify_database.admin()) as admin:
        assert admin.query("SELECT COUNT(*) AS n FROM offers_log")[0]["n"] == 0
        tables = admin.query(
            "SELECT TABLE_NAME AS name FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()"
        )
        assert not [row for row in tables if row["name"].startswith("verify_scratch")]


def test_text_output_has_one_line_per_check_and_no_secret_or_message(verify_database, capsys):
    code = main(["verify", *db_args(verify_database)])
    out = capsys.readouterr().out

    assert code == 0
    lines = out.splitlines()
    assert lines[0].startswith("verifying local database mysql://verify_")
    assert [line.split()[:2] for line in lines[1:-2]] == [["PASS", name] for name in CHECK_NAMES[:-1]]
    assert lines[-2].split()[:2] == ["SKIP", "agent_console"]
    assert lines[-1] == "all checks passed"
    password = verify_database.app_url.split(":")[2].split("@")[0]
    assert password not in out and SENTENCE not in out


def test_local_uses_the_recorded_server_and_its_model(verify_database, capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("CHURNGUARD_HOME", str(tmp_path))
    monkeypatch.delenv("CHURNGUARD_DB_URL", raising=False)
    monkeypatch.delenv("CHURNGUARD_MODEL_DIR", raising=False)
    root_url = verify_database.admin_url.rsplit("/", 1)[0] + "/"  # as `local up` records it: no database
    write_state(
        LocalServer(
            url=verify_database.app_url,
            admin_url=root_url,
            base_dir="",
            port=0,
            pid=0,
            managed=False,
            model_dir=str(verify_database.model_dir),
        )
    )

    code, report = verify_json(capsys, "--local")

    assert code == 0, report
    assert database_statuses(report) == {"pass"}


def test_a_given_customer_is_the_one_tested(verify_database, capsys):
    with closing(verify_database.admin()) as admin:
        other = admin.query(
            "SELECT area_code, phone FROM customers WHERE phone <> '358-1921' ORDER BY phone LIMIT 1"
        )[0]

    code, report = verify_json(
        capsys, *db_args(verify_database), "--area-code", str(other["area_code"]), "--phone", other["phone"]
    )

    assert code == 0
    assert f"{other['area_code']}/{other['phone']}" in by_name(report)["will_churn"]["detail"]


def test_an_unknown_customer_fails_will_churn_and_skips_what_needs_it(verify_database, capsys):
    code, report = verify_json(capsys, *db_args(verify_database), "--area-code", "999", "--phone", "000-0000")

    checks = by_name(report)
    assert code == 1
    assert checks["will_churn"]["status"] == "fail"
    assert "not in the customers table" in checks["will_churn"]["cause"]
    assert "--area-code/--phone" in checks["will_churn"]["fix"]
    assert checks["call_centre_statement"]["status"] == "skip"
    assert checks["recommend_api"]["status"] == "skip"
    assert checks["s3_export_load"]["status"] == "pass"


def test_a_dropped_will_churn_fails_the_bootstrap_check_and_every_scoring_check(verify_database, capsys):
    with closing(verify_database.admin()) as admin:
        admin.execute("DROP FUNCTION will_churn")

    code, report = verify_json(capsys, *db_args(verify_database))

    checks = by_name(report)
    assert code == 1
    assert checks["bootstrap_sql"]["status"] == "fail"
    assert checks["bootstrap_sql"]["cause"] == "will_churn is not installed in the database"
    assert "churnguard local up" in checks["bootstrap_sql"]["fix"]
    assert checks["will_churn"]["status"] == "fail"
    assert "does not exist" in checks["will_churn"]["detail"]
    assert checks["will_churn"]["cause"] == "will_churn is not installed in the database"
    assert checks["comprehend_sentiment"]["status"] == "pass"
    assert report["passed"] is False


def test_a_registry_whose_live_model_is_another_fails_the_bootstrap_check(verify_database, capsys):
    with closing(verify_database.admin()) as admin:
        admin.execute("UPDATE models SET live = 0")
        admin.execute(
            "INSERT INTO models (id, features, cutoff, test_metrics, cv_metrics, first_installed_at,"
            " installed_at, live) VALUES ('0123456789abcdef', '[]', 0.3, '{}', '{}', UTC_TIMESTAMP(6),"
            " UTC_TIMESTAMP(6), 1)"
        )
        admin.execute("ALTER FUNCTION will_churn COMMENT ''")

    code, report = verify_json(capsys, *db_args(verify_database))

    check = by_name(report)["bootstrap_sql"]
    assert code == 1
    assert check["status"] == "fail"
    assert "the registry's live model is 0123456789abcdef, not " in check["detail"]
    assert "--model-dir" in check["fix"]


def test_will_churn_of_another_model_fails_signature_and_agreement(verify_database, capsys):
    """A will_churn whose parameters are in another order (another model's) accepts every call."""
    names = ModelFolder.read(Path(verify_database.model_dir)).feature_spec.names
    parameters = ", ".join(f"`{name}` DOUBLE" for name in reversed(names))
    with closing(verify_database.admin()) as admin:
        admin.execute("DROP FUNCTION will_churn")
        admin.execute(
            f"CREATE FUNCTION will_churn({parameters}) RETURNS DOUBLE DETERMINISTIC NO SQL RETURN 0.5"
        )

    code, report = verify_json(capsys, *db_args(verify_database))

    checks = by_name(report)
    assert code == 1
    assert checks["bootstrap_sql"]["status"] == "fail"
    assert "out of step at position 0" in checks["bootstrap_sql"]["detail"]
    assert "another model" in checks["bootstrap_sql"]["cause"]
    assert "--model-dir" in checks["bootstrap_sql"]["fix"]
    assert checks["will_churn"]["status"] == "fail"
    assert "disagrees with the model" in checks["will_churn"]["detail"]
    # The fixes are the local stand-in's: `make deploy` and `make verify OUT=` do nothing for it.
    for name in ("bootstrap_sql", "will_churn", "recommend_api"):
        assert "churnguard local up --model <folder>" in checks[name]["fix"]
        assert "make verify ARGS=--local OUT=<its folder>" in checks[name]["fix"]
        assert "make deploy" not in checks[name]["fix"]
    assert checks["call_centre_statement"]["status"] == "fail"


def test_revoked_execute_fails_sentiment_with_the_privilege_cause(verify_database, capsys):
    with closing(verify_database.admin()) as admin:
        admin.execute(
            f"REVOKE EXECUTE ON `{verify_database.database}`.* FROM %(user)s@'127.0.0.1'",
            {"user": verify_database.app_user},
        )

    code, report = verify_json(capsys, *db_args(verify_database))

    checks = by_name(report)
    assert code == 1
    sentiment = checks["comprehend_sentiment"]
    assert sentiment["status"] == "fail"
    assert "execute command denied" in sentiment["detail"]
    assert sentiment["cause"] == "the application user lacks a privilege on the churnguard schema"
    assert checks["database_awake"]["status"] == "pass"


def failed_checks(report: dict) -> list[str]:
    return [check["name"] for check in report["checks"] if check["status"] == "fail"]


def test_a_delete_granted_to_the_api_user_fails_its_check_naming_it(verify_database, capsys):
    with closing(verify_database.admin()) as admin:
        admin.execute(f"GRANT DELETE ON `{verify_database.database}`.`offers_log` TO 'churnguard_api'@'%'")

    code, report = verify_json(capsys, *db_args(verify_database))

    check = by_name(report)["api_user_grants"]
    assert code == 1 and failed_checks(report) == ["api_user_grants"]
    assert check["detail"] == (
        f"VerifyFailure: the API user holds DELETE on {verify_database.database}.offers_log, which lets it "
        "remove rows; the bootstrap does not grant it"
    )
    assert "not the ones the bootstrap gives it" in check["cause"]
    assert "REVOKE <privilege> ON <object> FROM 'churnguard_api'@'%'" in check["fix"]


def test_an_s3_role_granted_to_the_api_user_fails_its_check_naming_it(verify_database, capsys):
    with closing(verify_database.admin()) as admin:
        admin.execute("CREATE ROLE AWS_LOAD_S3_ACCESS")
        try:
            admin.execute("GRANT AWS_LOAD_S3_ACCESS TO 'churnguard_api'@'%'")
            admin.execute("SET DEFAULT ROLE AWS_LOAD_S3_ACCESS FOR 'churnguard_api'@'%'")

            code, report = verify_json(capsys, *db_args(verify_database))
        finally:
            admin.execute("DROP ROLE AWS_LOAD_S3_ACCESS")

    assert code == 1 and failed_checks(report) == ["api_user_grants"]
    assert by_name(report)["api_user_grants"]["detail"] == (
        "VerifyFailure: the API user holds AWS_LOAD_S3_ACCESS, which lets it load files from S3 into "
        "tables; the bootstrap does not grant it"
    )


def test_a_grant_the_api_user_lacks_fails_its_check_naming_it(verify_database, capsys):
    with closing(verify_database.admin()) as admin:
        admin.execute(f"REVOKE INSERT ON `{verify_database.database}`.`offers_log` FROM 'churnguard_api'@'%'")

    code, report = verify_json(capsys, *db_args(verify_database))

    assert code == 1 and failed_checks(report) == ["api_user_grants"]
    assert by_name(report)["api_user_grants"]["detail"] == (
        f"VerifyFailure: the API user lacks INSERT on {verify_database.database}.offers_log, which the "
        "bootstrap grants"
    )


def test_a_missing_api_user_is_named_with_how_to_create_it(verify_database, capsys):
    with closing(verify_database.admin()) as admin:
        admin.execute("DROP USER 'churnguard_api'@'%'")

    code, report = verify_json(capsys, *db_args(verify_database))

    check = by_name(report)["api_user_grants"]
    assert code == 1 and failed_checks(report) == ["api_user_grants"]
    assert "1141" in check["detail"]
    assert check["cause"].startswith("the API user churnguard_api does not exist")
    assert "churnguard local up" in check["fix"]


def test_missing_comprehend_stand_ins_are_named(verify_database, capsys):
    with closing(verify_database.admin()) as admin:
        admin.execute("DROP FUNCTION aws_comprehend_detect_sentiment")

    code, report = verify_json(capsys, *db_args(verify_database))

    sentiment = by_name(report)["comprehend_sentiment"]
    assert code == 1
    assert sentiment["status"] == "fail"
    assert "Comprehend functions are missing" in sentiment["cause"]


def test_without_file_privilege_the_export_check_says_to_use_the_admin_url(verify_database, capsys):
    """A user with every right on the database but not MariaDB's global FILE, like `local up`'s."""
    with closing(verify_database.admin()) as admin:
        admin.execute(
            f"GRANT ALL PRIVILEGES ON `{verify_database.database}`.* TO %(user)s@'127.0.0.1'",
            {"user": verify_database.app_user},
        )

    code, report = verify_json(capsys, *db_args(verify_database, admin=False))

    checks = by_name(report)
    assert code == 1
    assert checks["s3_export_load"]["status"] == "fail"
    assert "FILE privilege" in checks["s3_export_load"]["cause"]
    assert "--admin-db-url" in checks["s3_export_load"]["fix"]
    assert [name for name, check in checks.items() if check["status"] == "fail"] == ["s3_export_load"]
    assert checks["api_user_grants"]["status"] == "skip"  # the app user may not read another's grants
    assert "--admin-db-url" in checks["api_user_grants"]["detail"]


def test_a_stopped_server_is_one_clear_error(capsys, trained_model_dir):
    code = main(
        ["verify", "--db-url", "mysql://u:p@127.0.0.1:1/churnguard", "--model-dir", str(trained_model_dir)]
    )

    assert code == 2
    assert "cannot connect" in capsys.readouterr().err
