"""Progress display: a counter redrawn on terminals, one plain line per step elsewhere (logs, CI)."""

from __future__ import annotations

import io

from training.progress import StreamProgress


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_terminal_sees_the_counter_redrawn_then_the_result() -> None:
    stream = Terminal()
    progress = StreamProgress(stream)
    progress.begin("searching", total=3)
    progress.advance(1, "best AUC 0.9")
    progress.advance(2, "best AUC 0.91")
    progress.end("best AUC 0.91")
    text = stream.getvalue()
    assert "\rsearching 1/3 best AUC 0.9" in text.replace("\x1b[K", "")
    assert "searching 2/3 best AUC 0.91" in text
    assert text.endswith("best AUC 0.91\n") and "searching done in " in text


def test_a_log_gets_one_line_per_step_without_control_characters() -> None:
    stream = io.StringIO()
    progress = StreamProgress(stream)
    progress.begin("searching", total=3)
    progress.advance(1, "best AUC 0.9")
    progress.end("best AUC 0.91")
    lines = stream.getvalue().splitlines()
    assert (
        len(lines) == 1 and lines[0].startswith("searching done in ") and lines[0].endswith(": best AUC 0.91")
    )
    assert "\r" not in stream.getvalue() and "\x1b" not in stream.getvalue()
