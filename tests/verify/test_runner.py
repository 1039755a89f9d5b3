"""The runner: every check runs and is timed, errors become diagnosed failures with nothing private
in them, and a database that does not answer skips the rest with that reason."""

from __future__ import annotations

from types import SimpleNamespace

from churnguard.verify.checks import SENTENCE, SkipCheck, VerifyContext
from churnguard.verify.diagnose import UNRECOGNISED_CAUSE
from churnguard.verify.runner import NO_DATABASE, error_text, run_checks


def context(phone: str | None = None) -> VerifyContext:
    requested = (415, phone) if phone else None
    return VerifyContext(
        target=SimpleNamespace(), explainer=SimpleNamespace(), model_dir=None, requested_customer=requested
    )


def test_other_customers_phones_and_the_sentence_never_reach_the_output():
    error = RuntimeError(f"Duplicate entry '375-9999' near '358-1921' while reading '{SENTENCE}'")

    text = error_text(error, test_phone="358-1921")

    assert (
        text == "RuntimeError: Duplicate entry 'NNN-NNNN' near '358-1921' while reading '<verify sentence>'"
    )


def test_long_errors_are_cut_to_one_line():
    text = error_text(ValueError("x\n" * 1000))

    assert "\n" not in text and len(text) == 400 and text.endswith("…")


def test_each_check_is_timed_and_a_failure_does_not_stop_the_run():
    ticks = iter(range(100))

    def failing(_):
        raise RuntimeError("Database error code: 1146. Message: Table 'churnguard.customers' doesn't exist")

    def skipping(_):
        raise SkipCheck("not here")

    seen = []
    results = run_checks(
        context("358-1921"),
        [("bootstrap_sql", failing), ("recommend_api", skipping), ("will_churn", lambda _: "fine")],
        hints={},
        on_result=seen.append,
        clock=lambda: float(next(ticks)),
    )

    assert [(r.name, r.status, r.seconds) for r in results] == [
        ("bootstrap_sql", "fail", 1.0),
        ("recommend_api", "skip", 1.0),
        ("will_churn", "pass", 1.0),
    ]
    assert "bootstrap SQL was not applied" in results[0].cause
    assert results[1].detail == "not here"
    assert seen == list(results)


def test_a_silent_database_skips_every_later_check():
    def down(_):
        raise RuntimeError("DatabaseStillResuming: still resuming")

    results = run_checks(
        context(), [("database_awake", down), ("will_churn", lambda _: "never run")], hints={}
    )

    assert results[0].status == "fail"
    assert (results[1].status, results[1].detail) == ("skip", NO_DATABASE)


def test_an_unrecognised_failure_after_its_prerequisite_failed_is_reported_as_its_consequence():
    def mismatch(_):
        raise RuntimeError("installed will_churn signature: out of step at position 14")

    def null_answer(_):
        raise RuntimeError("the API returned NULL for customer 415/358-1921")

    results = run_checks(
        context(),
        [
            ("bootstrap_sql", mismatch),
            ("comprehend_sentiment", lambda _: "fine"),
            ("recommend_api", null_answer),
        ],
        hints={},
    )

    bootstrap, _, api = results
    assert api.status == "fail" and api.detail.endswith("returned NULL for customer 415/NNN-NNNN")
    assert api.cause == f"follows from bootstrap_sql failing above: {bootstrap.cause}"
    assert api.fix == bootstrap.fix


def test_an_unrecognised_failure_whose_prerequisites_passed_stays_unrecognised():
    def null_answer(_):
        raise RuntimeError("the API returned NULL for customer 415/358-1921")

    results = run_checks(
        context(),
        [
            ("bootstrap_sql", lambda _: "fine"),
            ("s3_export_load", null_answer),
            ("recommend_api", null_answer),
        ],
        hints={},
    )

    assert [result.cause for result in results[1:]] == [UNRECOGNISED_CAUSE, UNRECOGNISED_CAUSE]


def test_a_recognised_failure_keeps_its_own_cause_after_a_prerequisite_failed():
    def mismatch(_):
        raise RuntimeError("installed will_churn signature: out of step at position 0")

    def no_route(_):
        raise RuntimeError("Unable to connect to endpoint")

    results = run_checks(
        context(), [("bootstrap_sql", mismatch), ("call_centre_statement", no_route)], hints={}
    )

    assert "cannot reach Amazon Comprehend" in results[1].cause
