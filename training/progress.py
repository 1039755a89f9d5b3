"""Progress display for the long steps of training, on stderr so stdout stays clean for summaries."""

from __future__ import annotations

import sys
import time
from typing import Protocol, TextIO


class Progress(Protocol):
    """What the pipeline reports: a step begins, advances, and ends."""

    def begin(self, step: str, total: int | None = None) -> None: ...

    def advance(self, done: int, detail: str = "") -> None: ...

    def end(self, detail: str = "") -> None: ...


class SilentProgress:
    """Reports nothing: the default for library use and tests."""

    def begin(self, step: str, total: int | None = None) -> None:
        pass

    def advance(self, done: int, detail: str = "") -> None:
        pass

    def end(self, detail: str = "") -> None:
        pass


class StreamProgress:
    """Prints one line per step with its duration; on a terminal, redraws a counter while it runs."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream if stream is not None else sys.stderr
        self._interactive = self._stream.isatty()
        self._step = ""
        self._total: int | None = None
        self._started = 0.0

    def begin(self, step: str, total: int | None = None) -> None:
        self._step, self._total, self._started = step, total, time.perf_counter()
        if self._interactive:
            self._stream.write(f"{step} ...")
            self._stream.flush()

    def advance(self, done: int, detail: str = "") -> None:
        if not self._interactive:
            return
        count = f"{done}/{self._total}" if self._total else str(done)
        self._stream.write(f"\r\x1b[K{self._step} {count} {detail}")
        self._stream.flush()

    def end(self, detail: str = "") -> None:
        elapsed = time.perf_counter() - self._started
        prefix = "\r\x1b[K" if self._interactive else ""
        suffix = f": {detail}" if detail else ""
        self._stream.write(f"{prefix}{self._step} done in {elapsed:.1f}s{suffix}\n")
        self._stream.flush()
