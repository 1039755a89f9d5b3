"""Runs the checks in order, timing each, and turns every error into a failure with a diagnosis.

A check never stops the run: each later check still runs (or says why it is skipped), so one deploy
problem does not hide another. Only when the database does not answer at all are the database checks
skipped, with that reason, instead of failing one by one with the same error.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace

from churnguard.verify import names
from churnguard.verify.checks import PREREQUISITES, SENTENCE, Check, SkipCheck, VerifyContext
from churnguard.verify.diagnose import UNRECOGNISED_CAUSE, diagnose
from churnguard.verify.report import CheckResult

MAX_ERROR_CHARS = 400
# A phone number as the schema stores it; an error that quotes another customer's is masked.
PHONE = re.compile(r"\b\d{3}-\d{4}\b")
NO_DATABASE = "the database did not answer (see database_awake)"


def error_text(error: BaseException, test_phone: str | None = None) -> str:
    """One line naming the error's type and message, cut short, without verify's own test sentence
    and without any phone number but the test customer's."""
    text = f"{type(error).__name__}: {error}".replace(SENTENCE, "<verify sentence>")
    text = PHONE.sub(lambda match: match.group() if match.group() == test_phone else "NNN-NNNN", text)
    text = " ".join(text.split())
    return text if len(text) <= MAX_ERROR_CHARS else text[: MAX_ERROR_CHARS - 1] + "…"


def run_one(
    name: str, check: Check, context: VerifyContext, hints: Mapping[str, str], clock: Callable[[], float]
) -> CheckResult:
    started = clock()
    try:
        detail = check(context)
    except SkipCheck as reason:
        return CheckResult(name, "skip", clock() - started, str(reason))
    except Exception as error:  # every failure is reported, diagnosed, and the run goes on
        text = error_text(error, context.test_phone())
        diagnosis = diagnose(name, text, hints)
        return CheckResult(name, "fail", clock() - started, text, diagnosis.cause, diagnosis.fix)
    return CheckResult(name, "pass", clock() - started, detail)


def run_checks(
    context: VerifyContext,
    checks: Sequence[tuple[str, Check]],
    *,
    hints: Mapping[str, str],
    on_result: Callable[[CheckResult], None] | None = None,
    clock: Callable[[], float] = time.perf_counter,
    prerequisites: Mapping[str, Sequence[str]] = PREREQUISITES,
) -> tuple[CheckResult, ...]:
    """Every check's result, in order; `on_result` sees each as soon as it is known (live output)."""
    results: list[CheckResult] = []
    failed: dict[str, CheckResult] = {}
    database_down = False
    for name, check in checks:
        if database_down:
            result = CheckResult(name, "skip", 0.0, NO_DATABASE)
        else:
            result = run_one(name, check, context, hints, clock)
            database_down = name == names.DATABASE_AWAKE and result.status == "fail"
        result = _as_consequence(result, [failed[n] for n in prerequisites.get(name, ()) if n in failed])
        if result.status == "fail":
            failed[name] = result
        results.append(result)
        if on_result is not None:
            on_result(result)
    return tuple(results)


def _as_consequence(result: CheckResult, failed_prerequisites: Sequence[CheckResult]) -> CheckResult:
    """An unrecognised failure after a prerequisite failed is reported as that failure's consequence:
    its cause and fix are the prerequisite's, which is what the user has to mend first."""
    if result.status != "fail" or result.cause != UNRECOGNISED_CAUSE or not failed_prerequisites:
        return result
    first = failed_prerequisites[0]
    return replace(result, cause=f"follows from {first.name} failing above: {first.cause}", fix=first.fix)
