"""`churnguard recommend` mistakes a person makes, each answered by one line naming the fix (issue 17):
another model's folder, no database at all, a phone number typed with its area code."""

from __future__ import annotations

import pytest

from churnguard.engine.request import InvalidRequestError, PhoneWithAreaCodeError, validate_request
from churnguard.feature_spec import FeatureSpec
from tests.engine.test_commands import offers_count, run
from tests.fixtures.agents import recommend_argv
from tests.sql.test_model_compiler import FEATURE_LISTS, write_model
from training.synthetic import generate_customers

MESSAGE = ["--message", "You morons! You charged me extra again!"]


@pytest.mark.mariadb
def test_another_models_folder_is_named_as_not_matching_the_installed_model(capsys, engine_db_url, tmp_path):
    other = tmp_path / "other-model"
    other.mkdir()
    write_model(
        other, FeatureSpec(tuple(FEATURE_LISTS["numeric only"])), generate_customers(300, seed=3), seed=3
    )
    before = offers_count(engine_db_url)
    argv = recommend_argv(*MESSAGE, "--db-url", engine_db_url)
    code, out, err = run(capsys, *argv, "--model", str(other))
    assert code == 2 and out == ""
    assert err.startswith(f"churnguard recommend: error: the model folder {other} does not match the model ")
    assert "this model has 3" in err and "--model" in err
    assert "1318" not in err
    assert err.count("\n") == 1
    assert offers_count(engine_db_url) == before  # refused before anything was recorded


def test_without_any_database_the_error_says_so_not_that_a_model_is_missing(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("CHURNGUARD_HOME", str(tmp_path / "home"))  # no local server recorded
    monkeypatch.delenv("CHURNGUARD_DB_URL", raising=False)
    monkeypatch.delenv("CHURNGUARD_MODEL_DIR", raising=False)
    monkeypatch.chdir(tmp_path)  # no artifacts/model here either
    code, _, err = run(capsys, "recommend", "--area-code", "415", "--phone", "358-1921", *MESSAGE)
    assert code == 2
    assert err.startswith("churnguard recommend: error: no database:")
    assert "churnguard local up" in err and "no trained model" not in err


@pytest.mark.parametrize("typed", ["415-358-1921", "(415) 358-1921", "415.358.1921", "4153581921"])
def test_a_phone_with_its_area_code_gets_the_split_options_suggested(capsys, typed):
    code, _, err = run(capsys, "recommend", "--area-code", "415", "--phone", typed, *MESSAGE)
    assert code == 2
    assert err.strip().endswith("did you mean --area-code 415 --phone 358-1921?")


def test_the_shared_check_says_the_same_without_repeating_the_number():
    with pytest.raises(PhoneWithAreaCodeError) as raised:
        validate_request(415, "415-358-1921", "hello")
    assert "include the area code" in str(raised.value)
    assert "358" not in str(raised.value) and "1921" not in str(raised.value)
    with pytest.raises(InvalidRequestError, match="NNN-NNNN") as plain:
        validate_request(415, "35-81921", "hello")
    assert not isinstance(plain.value, PhoneWithAreaCodeError)
