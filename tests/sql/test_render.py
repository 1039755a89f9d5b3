"""render_deploy_sql and the statement splitter: order, modes, idempotence, what Aurora gets."""

import re

import pytest

from churnguard.errors import UserError
from churnguard.feature_spec import Feature, FeatureSpec
from churnguard.model_folder import ModelFolder
from churnguard.sqlgen import (
    SqlFile,
    SqlRenderError,
    apply_sql_files,
    call_centre_sql,
    render_deploy_sql,
    static_sql_files,
    will_churn_call,
)
from churnguard.sqlgen.functions import render_one_hot_helpers

GENERATED = [
    "90_one_hot_helpers.sql",
    "91_will_churn.sql",
    "92_bulk_scoring.sql",
    "93_dba_interface.sql",
    "95_model_registry.sql",
]


@pytest.mark.parametrize(("mode", "endpoint"), [("endpoint", "cg-ep-1"), ("in_database", None)])
def test_static_files_come_first_in_name_order_then_the_same_generated_files_in_both_modes(
    trained_model_dir, mode, endpoint
):
    files = render_deploy_sql(trained_model_dir, inference_mode=mode, endpoint_name=endpoint)
    names = [f.name for f in files]
    static = [f.name for f in static_sql_files()]
    assert names[: len(static)] == static == sorted(static)
    assert "10_schema.sql" in static
    # Deployed with the endpoint, will_churn's COMMENT comes last in a best-effort file of its own.
    best_effort = ["96_will_churn_comment.optional.sql"] if mode == "endpoint" else []
    assert names[len(static) :] == GENERATED + best_effort


def test_endpoint_mode_scores_in_bulk_through_will_churn_in_the_select_list(trained_model_dir):
    files = render_deploy_sql(trained_model_dir, inference_mode="endpoint", endpoint_name="cg-ep-1")
    bulk = next(f for f in files if f.name == "92_bulk_scoring.sql").statements()
    spec = ModelFolder.read(trained_model_dir).feature_spec
    assert bulk[1].startswith("CREATE SQL SECURITY INVOKER VIEW customer_churn_scores AS")
    assert will_churn_call(spec, "c") in bulk[1]
    assert "EXP(" not in bulk[1]  # the endpoint scores: no compiled trees on Aurora in this mode
    assert "INSERT INTO customer_scores" in bulk[3] and "FROM customer_churn_scores" in bulk[3]


# AWS, "Using Amazon Aurora machine learning with Aurora MySQL", section "Using SageMaker AI with your
# Aurora MySQL DB cluster" (quoted in docs/bootstrap.md):
#   CREATE FUNCTION function_name (arg1 type1, arg2 type2, ...) [DEFINER = user]
#     RETURNS mysql_type [SQL SECURITY { DEFINER | INVOKER } ]
#     ALIAS AWS_SAGEMAKER_INVOKE_ENDPOINT ENDPOINT NAME 'endpoint_name' [MAX_BATCH_SIZE max_batch_size];
AWS_SAGEMAKER_UDF = re.compile(
    r"CREATE FUNCTION (?P<name>\w+) ?\((?P<arguments>[^)]*)\)\s+"
    r"(?:DEFINER = \S+\s+)?"
    r"RETURNS (?P<returns>\w+)\s+"
    r"(?:SQL SECURITY (?P<security>DEFINER|INVOKER)\s+)?"
    r"ALIAS AWS_SAGEMAKER_INVOKE_ENDPOINT\s+ENDPOINT NAME '(?P<endpoint>[^']+)'"
    r"(?:\s+MAX_BATCH_SIZE \d+)?$"
)


def test_the_sagemaker_alias_follows_aws_syntax_and_runs_as_its_caller(trained_model_dir):
    files = render_deploy_sql(trained_model_dir, inference_mode="endpoint", endpoint_name="cg-ep-1")
    alias = next(f for f in files if f.name == "91_will_churn.sql").statements()[1]
    found = AWS_SAGEMAKER_UDF.match(alias)
    assert found, alias
    assert (found["name"], found["returns"], found["endpoint"]) == ("will_churn", "DOUBLE", "cg-ep-1")
    # The caller's AWS_SAGEMAKER_ACCESS counts, not the admin's (the default is DEFINER).
    assert found["security"] == "INVOKER"


def test_endpoint_mode_renders_the_sagemaker_alias_with_every_feature(trained_model_dir):
    files = render_deploy_sql(trained_model_dir, inference_mode="endpoint", endpoint_name="cg-ep-1")
    will_churn = next(f for f in files if f.name == "91_will_churn.sql")
    statements = will_churn.statements()
    assert statements[0] == "DROP FUNCTION IF EXISTS will_churn"
    assert "ALIAS AWS_SAGEMAKER_INVOKE_ENDPOINT ENDPOINT NAME 'cg-ep-1'" in statements[1]
    spec = ModelFolder.read(trained_model_dir).feature_spec
    assert statements[1].index("(") < statements[1].index(f"`{spec.names[0]}` DOUBLE")
    positions = [statements[1].index(f"`{name}` DOUBLE") for name in spec.names]
    assert positions == sorted(positions)
    everything = "\n".join(f.text for f in files)
    assert "aws_comprehend" not in everything  # built into Aurora: never deployed
    assert "CREATE OR REPLACE" not in everything.upper()


def test_in_database_mode_renders_the_compiled_model_and_scoring_objects(trained_model_dir):
    files = render_deploy_sql(trained_model_dir, inference_mode="in_database", endpoint_name=None)
    text = "\n".join(f.text for f in files)
    assert "AWS_SAGEMAKER_INVOKE_ENDPOINT" not in text
    assert "DETERMINISTIC NO SQL" in text
    assert "CREATE SQL SECURITY INVOKER VIEW customer_churn_scores" in text
    assert "CREATE PROCEDURE refresh_customer_scores" in text


def test_rendering_is_idempotent(trained_model_dir):
    for mode, endpoint in (("endpoint", "cg-ep-1"), ("in_database", None)):
        first = render_deploy_sql(trained_model_dir, inference_mode=mode, endpoint_name=endpoint)
        second = render_deploy_sql(trained_model_dir, inference_mode=mode, endpoint_name=endpoint)
        assert first == second


@pytest.mark.parametrize(
    ("mode", "endpoint", "message"),
    [
        ("endpoint", None, "endpoint name"),
        ("endpoint", "x'; DROP TABLE customers; --", "not a valid SageMaker endpoint name"),
        ("sagemaker", "cg", "inference_mode"),
    ],
)
def test_bad_deploy_options_are_refused(trained_model_dir, mode, endpoint, message):
    with pytest.raises(SqlRenderError, match=message):
        render_deploy_sql(trained_model_dir, inference_mode=mode, endpoint_name=endpoint)


@pytest.mark.mariadb
def test_in_database_deploy_sql_applies_twice_on_mariadb(sql_client, trained_model_dir):
    files = render_deploy_sql(trained_model_dir, inference_mode="in_database", endpoint_name=None)
    apply_sql_files(sql_client, files)
    apply_sql_files(sql_client, files)
    routines = sql_client.query(
        "SELECT ROUTINE_NAME AS name FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = DATABASE()"
    )
    assert {"will_churn", "refresh_customer_scores"} <= {row["name"] for row in routines}


def test_call_centre_statement_has_exactly_the_three_parameters(trained_model_dir):
    sql = call_centre_sql(ModelFolder.read(trained_model_dir).feature_spec)
    assert sorted(set(re.findall(r"%\((\w+)\)s", sql))) == ["area_code", "message", "phone"]
    assert "'" not in sql.replace("'en'", "").replace("'no'", "").replace("'yes'", "")


def test_one_hot_helper_names_may_not_clash():
    clashing = FeatureSpec(
        (
            Feature("int_plan_no", "one_hot", source="int_plan", value="no"),
            Feature("intplan_no", "one_hot", source="int_plan", value="no"),
        )
    )
    with pytest.raises(SqlRenderError, match="share a helper name"):
        render_one_hot_helpers(clashing)


def test_one_hot_values_that_would_need_quoting_are_refused():
    hostile = FeatureSpec((Feature("state_x", "one_hot", source="state", value="x') OR ('1"),))
    with pytest.raises(SqlRenderError, match="may only hold"):
        render_one_hot_helpers(hostile)


@pytest.mark.mariadb
def test_a_failing_statement_is_a_one_line_error_naming_file_statement_and_line(sql_client):
    files = [SqlFile("50_broken.sql", "CREATE TABLE ok_table (id INT);\n\nSELECT * FROM no_such_table;\n")]
    expected = r"^50_broken\.sql statement 2 \(line 3: SELECT \* FROM no_such_table\) failed: .*no_such_table"
    with pytest.raises(UserError, match=expected):
        apply_sql_files(sql_client, files)


@pytest.mark.mariadb
def test_a_data_destroying_statement_is_refused_before_anything_runs(sql_client):
    files = [
        SqlFile("50_first.sql", "CREATE TABLE kept_rows (id INT);"),
        SqlFile("60_second.sql", "DROP TABLE customers;"),
    ]
    with pytest.raises(UserError, match=r"60_second\.sql statement 1 .* is refused: DROP TABLE"):
        apply_sql_files(sql_client, files)
    assert sql_client.query("SHOW TABLES LIKE 'kept_rows'") == []
