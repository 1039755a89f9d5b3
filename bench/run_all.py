"""Runs every benchmark under bench/ (bench_*.py) in turn; each prints its figures as JSON lines.

`make bench` calls this. A benchmark that fails makes the whole run fail, after the others have run,
so one broken script does not hide the figures of the rest.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent


def main(argv: list[str]) -> int:
    selected = set(argv)
    failed: list[str] = []
    for script in sorted(BENCH_DIR.glob("bench_*.py")):
        if selected and script.stem not in selected:
            continue
        print(f"# {script.name}", file=sys.stderr, flush=True)
        completed = subprocess.run([sys.executable, str(script)], check=False)
        if completed.returncode != 0:
            failed.append(script.name)
    if failed:
        print(f"# failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
