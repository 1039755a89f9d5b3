"""Customer text made safe to show on a terminal: bidirectional controls as their code points.

A stored message holding U+202E (RIGHT-TO-LEFT OVERRIDE) shows "evil" as "live" on any screen that
honours it, so a person reading a report must see the control itself, not its effect. The agent
console does the same in its page (console.js, visibleControls).
"""

from __future__ import annotations

import re

# The Unicode bidirectional formatting characters: embeddings and overrides (U+202A-U+202E), isolates
# (U+2066-U+2069), and the implicit marks (LRM, RLM, ALM).
BIDI_CONTROLS = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def show_controls(text: str) -> str:
    """`text` with each bidirectional control written as `<U+202E>`."""
    return BIDI_CONTROLS.sub(lambda match: f"<U+{ord(match.group()):04X}>", text)
