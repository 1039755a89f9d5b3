"""Every command block of README.md and docs/ is either run here, as a reader would paste it, or says
why it cannot be: a block of commands that nobody runs goes stale (issue 27 found several).

The convention, for people writing docs:
- ```sh  commands to paste. Run by this test in order, each block in its own `bash -e` (so a failing
  line fails the block), with `churnguard` on PATH and HOME a fresh folder, on a fresh checkout's
  state: no model in artifacts/ unless a block made one.
  A block that needs what only AWS or another machine has starts with `# aws: <why>` or
  `# not run here: <why>` and is not run; the reason must say why.
- ```text  a synopsis (`[--option]`) or a sample of output (`$ churnguard ...` followed by what it
  printed): never run.
Blocks that start a local server (`churnguard local up`) bring their own and stop it (`local down`);
every other runnable block runs against one server this test starts for it, with the session's
trained model, as a reader who ran `churnguard local up` first would.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^```(?P<lang>[\w-]*)\n(?P<body>.*?)^```", re.MULTILINE | re.DOTALL)
SKIP = re.compile(r"^# (aws|not run here): (?P<why>.+)")
# A line that is a command someone would paste, in a block that is not marked as sh or text.
COMMAND_LINE = re.compile(r"^(churnguard|make|mariadb|aws|npx|npm|\.venv/bin/)\b")
BLOCK_TIMEOUT_S = 600

pytestmark = pytest.mark.mariadb


@dataclass(frozen=True)
class Block:
    where: str  # file:line of the opening fence
    lang: str
    text: str

    @property
    def skip_reason(self) -> str | None:
        match = SKIP.match(self.text)
        return match.group("why").strip() if match else None

    @property
    def brings_its_own_server(self) -> bool:
        return bool(re.search(r"^churnguard local up\b", self.text, re.MULTILINE))


def blocks() -> list[Block]:
    found = []
    for path in DOCS:
        text = path.read_text(encoding="utf-8")
        for match in FENCE.finditer(text):
            line = text.count("\n", 0, match.start()) + 1
            found.append(Block(f"{path.relative_to(ROOT)}:{line}", match.group("lang"), match.group("body")))
    return found


BLOCKS = blocks()
SH_BLOCKS = [block for block in BLOCKS if block.lang == "sh"]
RUNNABLE = [block for block in SH_BLOCKS if block.skip_reason is None]


def test_every_command_block_is_marked_sh_or_text():
    unmarked = [
        block.where
        for block in BLOCKS
        if block.lang in ("", "bash", "shell", "console")
        and any(COMMAND_LINE.match(line.removeprefix("$ ")) for line in block.text.splitlines())
    ]
    assert unmarked == [], "fence these ```sh (run here, or # aws: / # not run here:) or ```text"


def test_blocks_that_are_not_run_say_why():
    vague = [
        block.where for block in SH_BLOCKS if block.skip_reason is not None and len(block.skip_reason) < 15
    ]
    assert vague == []
    assert RUNNABLE, "the docs have runnable blocks"


@pytest.fixture(scope="module")
def reader_environment(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """A shell as a reader's: `churnguard` on PATH, HOME of its own, the checkout as the current folder."""
    bin_dir = tmp_path_factory.mktemp("bin")
    shim = bin_dir / "churnguard"
    shim.write_text(f'#!/bin/sh\nexec {sys.executable} -m churnguard.cli "$@"\n')
    shim.chmod(0o755)
    home = tmp_path_factory.mktemp("home")
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("CHURNGUARD_", "AWS_")) and key != "PYTEST_CURRENT_TEST"
    }
    return {
        **environment,
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "HOME": str(home),
        "PYTHONPATH": str(ROOT),
        "AWS_EC2_METADATA_DISABLED": "true",
    }


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The reader's checkout: the repository's docs and data paths, but artifacts/ of its own."""
    folder = tmp_path_factory.mktemp("checkout")
    for name in ("README.md", "docs", "sql", "churnguard"):
        (folder / name).symlink_to(ROOT / name)
    return folder


def run_block(block: Block, environment: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "-e", "-o", "pipefail", "-c", block.text],
        cwd=cwd,
        env=environment,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=BLOCK_TIMEOUT_S,
        check=False,
    )


@pytest.fixture(scope="module")
def local_server(reader_environment, workdir, trained_model_dir) -> Iterator[None]:
    """One `churnguard local up` for the blocks that expect one, with the session's model kept as
    artifacts/model too (what `make train` leaves) and stopped at the end."""
    shutil.copytree(trained_model_dir, workdir / "artifacts" / "model")
    up = run_block(
        Block("setup", "sh", f"churnguard local up --model {trained_model_dir}\n"),
        reader_environment,
        workdir,
    )
    assert up.returncode == 0, up.stderr
    try:
        yield
    finally:
        run_block(Block("teardown", "sh", "churnguard local down\n"), reader_environment, workdir)


@pytest.mark.parametrize("block", RUNNABLE, ids=[block.where for block in RUNNABLE])
def test_the_block_runs_as_pasted(block: Block, reader_environment, workdir, request):
    if not block.brings_its_own_server:
        request.getfixturevalue("local_server")
    elif Path(reader_environment["HOME"], ".churnguard", "local-db.json").exists():
        pytest.fail("a block that starts its own server ran while another was up: order the blocks")
    finished = run_block(block, reader_environment, workdir)
    assert finished.returncode == 0, (
        f"{block.where} failed:\n{finished.stdout[-2000:]}\n{finished.stderr[-3000:]}"
    )
    assert "Traceback" not in finished.stderr
