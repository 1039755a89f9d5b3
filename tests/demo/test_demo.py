"""`churnguard demo` end to end: the printed offers, the report a person opens, nothing left running."""

from __future__ import annotations

import contextlib
import io
import json
import re
import shutil
import subprocess
import tempfile
from html.parser import HTMLParser
from pathlib import Path
from typing import ClassVar

import pytest

from churnguard.cli import main
from churnguard.constants import DEFAULT_SYNTHETIC_CUSTOMERS

# The demo as `make demo` runs it (its default size, search and seed): the offers it prints are what
# a newcomer sees, so the test checks those, not a cut-down run whose weaker model scores differently.
DEMO_CUSTOMERS = DEFAULT_SYNTHETIC_CUSTOMERS


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    """One demo run; its temporary files go to a folder of its own so leftovers can be seen."""
    out_dir = tmp_path_factory.mktemp("demo-out")
    scratch = tmp_path_factory.mktemp("demo-tmp")
    saved_tempdir = tempfile.tempdir
    tempfile.tempdir = str(scratch)
    stdout = io.StringIO()
    try:
        with contextlib.redirect_stdout(stdout):
            exit_code = main(["demo", "--out", str(out_dir)])
    finally:
        tempfile.tempdir = saved_tempdir
    return {"exit_code": exit_code, "stdout": stdout.getvalue(), "out": out_dir, "scratch": scratch}


def _row(stdout: str, customer: str) -> str:
    rows = [line for line in stdout.splitlines() if line.startswith(customer)]
    assert len(rows) == 1, f"expected one row for {customer} in:\n{stdout}"
    return rows[0]


def test_demo_succeeds_and_answers_the_reference_calls_as_the_rules_say(demo_run):
    assert demo_run["exit_code"] == 0
    high = _row(demo_run["stdout"], "415 358-1921")
    low = _row(demo_run["stdout"], "408 375-9999")
    assert "credit_25" in high and "negative_high_risk" in high and "NEGATIVE" in high
    # "How do I dial Morocco?": the call-reason rule's international pack, at low risk.
    assert "international_pack" in low and "international_caller" in low and "NEGATIVE" not in low
    # Besides the reference calls, customers from across the risk ranking.
    assert sum(" of risk" in line for line in demo_run["stdout"].splitlines()) >= 4


def test_demo_summary_names_the_report_and_the_export(demo_run):
    stdout = demo_run["stdout"]
    report = Path(re.search(r"^report\s+(\S+)$", stdout, re.MULTILINE).group(1))
    assert report == demo_run["out"] / "model" / "report.html" and report.is_file()
    export = demo_run["out"] / "export" / "customers.csv"
    assert export.is_file()
    assert len(export.read_text(encoding="utf-8").splitlines()) == DEMO_CUSTOMERS
    metadata = json.loads((demo_run["out"] / "model" / "metadata.json").read_text(encoding="utf-8"))
    assert metadata["data"]["rows"] == DEMO_CUSTOMERS
    # The agent console needs a database that outlives the demo: the summary says how to start both.
    assert re.search(r"^agent console\s+churnguard local up && churnguard console", stdout, re.MULTILINE)


def test_demo_leaves_no_server_and_no_files_behind(demo_run):
    assert list(demo_run["scratch"].iterdir()) == []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            text = cmdline.read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        assert str(demo_run["scratch"]) not in text, f"still running: {text}"


class _ReportParser(HTMLParser):
    """Collects image sources and checks that every opened element is closed in order."""

    VOID: ClassVar[set[str]] = {
        "img",
        "br",
        "hr",
        "meta",
        "link",
        "input",
        "col",
        "source",
        "wbr",
        "area",
        "base",
    }

    def __init__(self) -> None:
        super().__init__()
        self.images: list[str] = []
        self.open: list[str] = []
        self.problems: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "img":
            self.images.append(dict(attrs).get("src", ""))
        if tag not in self.VOID:
            self.open.append(tag)

    def handle_endtag(self, tag):
        if tag in self.VOID:
            return
        if not self.open or self.open[-1] != tag:
            self.problems.append(f"</{tag}> closes {self.open[-1] if self.open else 'nothing'}")
            return
        self.open.pop()


def test_report_is_well_formed_and_every_image_exists(demo_run):
    report = demo_run["out"] / "model" / "report.html"
    parser = _ReportParser()
    parser.feed(report.read_text(encoding="utf-8"))
    assert parser.problems == [] and parser.open == []
    assert len(parser.images) >= 4  # importance, ROC of both models, cost vs cut-off, score distribution
    for source in parser.images:
        image = report.parent / source
        assert image.is_file() and image.stat().st_size > 1000, source
        assert image.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", source


def test_report_renders_every_plot_in_headless_chromium(demo_run, tmp_path):
    chromium = shutil.which("chromium")
    assert chromium, (
        "the report check needs Debian's chromium: apt-get install -y chromium (make install does)"
    )
    report = demo_run["out"] / "model" / "report.html"
    probe = report.parent / "report-render-check.html"
    # The same page, plus a script that writes into the DOM whether every image decoded with a size.
    probe.write_text(
        report.read_text(encoding="utf-8").replace(
            "</body>",
            "<script>window.addEventListener('load', () => { const images = [...document.images];"
            " document.body.setAttribute('data-rendered', images.filter(i => i.complete &&"
            " i.naturalWidth > 0).length + '/' + images.length); });</script></body>",
        ),
        encoding="utf-8",
    )
    command = [
        chromium,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}",
        "--virtual-time-budget=10000",
        "--dump-dom",
        probe.as_uri(),
    ]
    try:
        dom = subprocess.run(command, capture_output=True, text=True, timeout=120, check=True).stdout
    finally:
        probe.unlink()
    rendered = re.search(r'data-rendered="(\d+)/(\d+)"', dom)
    assert rendered, "the page did not finish loading in chromium"
    loaded, total = int(rendered.group(1)), int(rendered.group(2))
    assert total >= 4 and loaded == total


@pytest.mark.parametrize(("option", "value"), [("--trials", "0"), ("--customers", "99")])
def test_bad_options_stop_before_any_server_starts(option, value, tmp_path, capsys):
    saved_tempdir = tempfile.tempdir
    tempfile.tempdir = str(tmp_path)
    try:
        assert main(["demo", "--out", str(tmp_path / "out"), option, value]) == 2
    finally:
        tempfile.tempdir = saved_tempdir
    assert f"{option} must be at least" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_missing_data_file_stops_before_any_server_starts(tmp_path, capsys):
    saved_tempdir = tempfile.tempdir
    tempfile.tempdir = str(tmp_path)
    try:
        exit_code = main(["demo", "--out", str(tmp_path / "out"), "--data", str(tmp_path / "missing.csv")])
    finally:
        tempfile.tempdir = saved_tempdir
    assert exit_code == 2
    assert "missing.csv" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []  # no server folder, no output folder


def test_real_customers_are_labelled_by_measured_risk_not_as_planted(public_data_path, tmp_path):
    stdout = io.StringIO()
    with contextlib.redirect_stdout(stdout):
        exit_code = main(["demo", "--out", str(tmp_path), "--data", str(public_data_path), "--trials", "2"])
    assert exit_code == 0
    rows = [_row(stdout.getvalue(), customer) for customer in ("415 358-1921", "408 375-9999")]
    for row in rows:
        assert "planted" not in row
        assert re.search(r"reference call, (lower half|50-90th percentile|top 10%) of risk", row), row
