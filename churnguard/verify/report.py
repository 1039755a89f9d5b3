"""Check results and how they are printed: one line per check for people, one JSON object for tools.

Field names (`checks`, `name`, `status`, `seconds`, `detail`) are the ones issue 11 fixes; a failed
check also carries `cause` and `fix`. Nothing here adds data: the detail strings are written by the
checks, which never put secrets or message text into them.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Literal

Status = Literal["pass", "fail", "skip"]


@dataclass(frozen=True)
class CheckResult:
    """What one check found, how long it took, and for a failure what probably caused it."""

    name: str
    status: Status
    seconds: float
    detail: str
    cause: str = ""
    fix: str = ""

    def to_json(self) -> dict[str, object]:
        data = asdict(self)
        data["seconds"] = round(self.seconds, 3)
        if self.status != "fail":
            del data["cause"], data["fix"]
        return data


@dataclass(frozen=True)
class Report:
    """Every check's result for one target (`aurora churnguard-dev in eu-west-1`, `local ...`)."""

    target: str
    checks: tuple[CheckResult, ...]

    @property
    def passed(self) -> bool:
        """True when no check failed (skipped checks do not fail a run: each says why it was skipped)."""
        return all(check.status != "fail" for check in self.checks)

    def to_json(self) -> dict[str, object]:
        return {
            "target": self.target,
            "passed": self.passed,
            "checks": [check.to_json() for check in self.checks],
        }


def format_line(check: CheckResult, name_width: int) -> str:
    """`PASS  will_churn        0.21 s  <detail>`, plus indented cause and fix lines for a failure."""
    line = f"{check.status.upper():<5} {check.name:<{name_width}} {check.seconds:6.2f} s  {check.detail}"
    if check.status == "fail":
        line += f"\n{'':6}cause: {check.cause}\n{'':6}fix:   {check.fix}"
    return line


def verdict(report: Report) -> str:
    """The last line: every failed check by name, or that all passed."""
    failed = [check.name for check in report.checks if check.status == "fail"]
    return f"FAILED: {', '.join(failed)}" if failed else "all checks passed"


def format_json(report: Report) -> str:
    return json.dumps(report.to_json())
