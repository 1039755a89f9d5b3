"""The report's two forms: `--json` (the field names issue 11 fixes) and one line per check."""

from __future__ import annotations

import json

from churnguard.verify.report import CheckResult, Report, format_json, format_line, verdict

PASSED = CheckResult("will_churn", "pass", 0.2149, "customer 415/358-1921: 0.958263")
SKIPPED = CheckResult("recommend_api", "skip", 0.0, "the database did not answer")
FAILED = CheckResult(
    "comprehend_sentiment", "fail", 1.5, "Database error code: 1871", "cause text", "fix text"
)


def test_json_is_one_object_with_a_checks_list():
    data = json.loads(format_json(Report("stack churnguard-dev in eu-west-1", (PASSED, SKIPPED, FAILED))))

    assert data["passed"] is False
    assert data["checks"][0] == {
        "name": "will_churn",
        "status": "pass",
        "seconds": 0.215,
        "detail": "customer 415/358-1921: 0.958263",
    }
    assert data["checks"][1]["status"] == "skip" and "cause" not in data["checks"][1]
    assert (data["checks"][2]["cause"], data["checks"][2]["fix"]) == ("cause text", "fix text")


def test_a_skip_does_not_fail_the_run_but_a_failure_does():
    assert Report("t", (PASSED, SKIPPED)).passed
    assert verdict(Report("t", (PASSED, FAILED))) == "FAILED: comprehend_sentiment"


def test_a_failure_line_carries_its_cause_and_fix():
    lines = format_line(FAILED, 22).splitlines()

    assert lines[0] == "FAIL  comprehend_sentiment     1.50 s  Database error code: 1871"
    assert lines[1:] == ["      cause: cause text", "      fix:   fix text"]
