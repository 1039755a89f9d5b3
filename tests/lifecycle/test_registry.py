"""Against the real local server: the registry records installed models, every answer names the live
model, a second model keeps the first one's answers apart, and `models list` shows both."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from churnguard.cli import main
from churnguard.db import PyMySqlClient
from churnguard.engine.offers_log import Actor, record_outcome
from churnguard.engine.recommend import Engine
from churnguard.engine.report import format_report, offers_report
from churnguard.engine.request import validate_request
from churnguard.lifecycle.identity import read_identity
from churnguard.lifecycle.registry import RegistryError, list_models, live_model
from churnguard.local.install import install_churnguard, install_functions
from churnguard.sqlgen import apply_sql_files, render_deploy_sql
from tests.fixtures.agents import fresh_agent
from tests.fixtures.mariadb import database_url
from training.synthetic import generate_customers, generate_messages

pytestmark = pytest.mark.mariadb

CUSTOMERS = 300
HIGH_RISK = (415, "358-1921", "You morons! You charged me extra again!")
LOW_RISK = (408, "375-9999", "Thank you very much for resolving the issues with my bill!")


def install(client: PyMySqlClient, model_dir: Path) -> None:
    customers = generate_customers(CUSTOMERS, seed=3)
    install_churnguard(
        client, model_dir=model_dir, customers=customers, messages=generate_messages(customers, 3)
    )


def answer(client: PyMySqlClient, model_dir: Path, call: tuple[int, str, str]) -> int:
    return int(
        Engine.load(model_dir).recommend(client, validate_request(*call), agent=fresh_agent())["offer_id"]
    )


def logged_models(client: PyMySqlClient) -> dict[int, tuple[str, float]]:
    rows = client.query("SELECT id, model_id, model_cutoff FROM offers_log ORDER BY id")
    return {int(row["id"]): (row["model_id"], row["model_cutoff"]) for row in rows}


def test_answers_name_the_live_model_and_a_second_model_keeps_them_apart(
    sql_client: PyMySqlClient, trained_model_dir: Path, second_model_dir: Path, capsys, mariadb_url: str
) -> None:
    first, second = read_identity(trained_model_dir), read_identity(second_model_dir)
    assert first.model_id != second.model_id
    install(sql_client, trained_model_dir)
    assert live_model(sql_client) == {"id": first.model_id, "cutoff": first.cutoff}
    old = [answer(sql_client, trained_model_dir, HIGH_RISK), answer(sql_client, trained_model_dir, LOW_RISK)]
    record_outcome(sql_client, old[0], actor=Actor("supervisor-sue", supervisor=True), retained=True)

    install_functions(sql_client, second_model_dir)
    new = answer(sql_client, second_model_dir, HIGH_RISK)

    logged = logged_models(sql_client)
    assert [logged[offer] for offer in old] == [(first.model_id, first.cutoff)] * 2  # old rows keep theirs
    assert logged[new] == (second.model_id, second.cutoff)
    comment = sql_client.query(
        "SELECT ROUTINE_COMMENT AS c FROM information_schema.ROUTINES"
        " WHERE ROUTINE_SCHEMA = DATABASE() AND ROUTINE_NAME = 'will_churn'"
    )[0]["c"]
    assert comment == f"churnguard model {second.model_id}, cut-off {second.cutoff:g}"

    by_model = offers_report(sql_client)["by_model"]
    assert [(item["model_id"], item["offers"], item["outcomes"]) for item in by_model] == [
        (first.model_id, 2, 1),
        (second.model_id, 1, 0),
    ]
    assert by_model[0]["retention"] == 1.0 and by_model[0]["cutoff"] == first.cutoff
    text = format_report(offers_report(sql_client))
    assert f"{first.model_id}" in text and f"{second.model_id}" in text

    database = sql_client.query("SELECT DATABASE() AS d")[0]["d"]
    assert main(["models", "list", "--json", "--db-url", database_url(mariadb_url, database)]) == 0
    listed = json.loads(capsys.readouterr().out)["models"]
    assert [(model["id"], model["live"]) for model in listed] == [
        (second.model_id, True),
        (first.model_id, False),
    ]
    assert listed[1]["features"] == first.features
    assert listed[1]["test_metrics"]["test_auc"] == first.test_metrics["test_auc"]
    assert listed[1]["data_fingerprint"] == first.data_fingerprint
    assert main(["models", "list", "--db-url", database_url(mariadb_url, database)]) == 0
    assert capsys.readouterr().out.splitlines()[1].startswith(f"* {second.model_id}")


def test_rolling_back_makes_the_earlier_model_live_again_and_keeps_its_history(
    sql_client: PyMySqlClient, trained_model_dir: Path, second_model_dir: Path
) -> None:
    install(sql_client, trained_model_dir)
    recorded = {model["id"]: model for model in list_models(sql_client)}
    install_functions(sql_client, second_model_dir)
    install_functions(sql_client, trained_model_dir)  # the rollback
    models = {model["id"]: model for model in list_models(sql_client)}
    first = read_identity(trained_model_dir).model_id
    assert [model_id for model_id, model in models.items() if model["live"]] == [first]
    assert models[first]["first_installed_at"] == recorded[first]["first_installed_at"]
    assert models[first]["installed_at"] > recorded[first]["installed_at"]
    assert live_model(sql_client)["id"] == first


def test_the_deploy_sql_records_the_model_like_the_local_install(
    sql_client: PyMySqlClient, trained_model_dir: Path
) -> None:
    files = render_deploy_sql(trained_model_dir, inference_mode="in_database", endpoint_name=None)
    apply_sql_files(sql_client, files)
    apply_sql_files(sql_client, files)  # the bootstrap runs again on the next stack update: one row
    (model,) = list_models(sql_client)
    assert (model["id"], model["live"]) == (read_identity(trained_model_dir).model_id, True)


def test_a_database_with_a_model_it_never_recorded_is_a_clear_error(
    sql_client: PyMySqlClient, trained_model_dir: Path, second_model_dir: Path
) -> None:
    install(sql_client, trained_model_dir)
    # will_churn replaced by hand with another model's, the registry not told.
    deploy_files = render_deploy_sql(second_model_dir, inference_mode="in_database", endpoint_name=None)
    apply_sql_files(
        sql_client,
        [file for file in deploy_files if file.name in ("90_one_hot_helpers.sql", "91_will_churn.sql")],
    )
    sql_client.execute("ALTER FUNCTION will_churn COMMENT 'churnguard model 0123456789abcdef, cut-off 0.3'")
    with pytest.raises(
        RegistryError, match=r"will_churn names 0123456789abcdef but the registry's live model is"
    ):
        live_model(sql_client)
    sql_client.execute("UPDATE models SET live = 0")
    with pytest.raises(
        RegistryError,
        match=r"names model 0123456789abcdef, but this database has no live model recorded: reinstall",
    ):
        live_model(sql_client)


def test_a_database_without_the_registry_says_how_to_get_it(sql_client: PyMySqlClient) -> None:
    with pytest.raises(RegistryError, match=r"no models table: apply sql/15_models\.sql"):
        list_models(sql_client)


def test_the_deploy_comments_will_churn_best_effort_only_on_the_sagemaker_alias(
    trained_model_dir: Path,
) -> None:
    """Aurora's SageMaker alias form of CREATE FUNCTION is documented without a COMMENT: there the
    ALTER FUNCTION is a best-effort file of its own, after the registry, whose refusal cannot fail the
    deploy; the compiled function is named by the registry file itself."""

    def texts(**mode: str | None) -> dict[str, str]:
        return {file.name: file.text for file in render_deploy_sql(trained_model_dir, **mode)}

    endpoint = texts(inference_mode="endpoint", endpoint_name="churnguard-dev-churn")
    compiled = texts(inference_mode="in_database", endpoint_name=None)
    model_id = read_identity(trained_model_dir).model_id
    comment = f"ALTER FUNCTION will_churn COMMENT 'churnguard model {model_id}, cut-off "
    registry = "95_model_registry.sql"
    assert "ALTER FUNCTION" not in endpoint[registry] and "INSERT INTO models" in endpoint[registry]
    assert endpoint["96_will_churn_comment.optional.sql"].startswith(comment)
    assert comment in compiled[registry]
    assert not any(name.endswith(".optional.sql") for name in compiled)
