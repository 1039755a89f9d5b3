"""The English word list behind the local Comprehend stand-in, written for this project.

Valences run from -4 (abusive) to +4 (delighted), weighted for what customers write to a phone
company: billing, coverage, dropped calls, leaving. Negators flip the sign of the next two words'
valence (and halve it: "not bad" is mildly positive); intensifiers raise the next word's by half.
"""

from __future__ import annotations

VALENCE: dict[str, float] = {
    # strongly negative: abuse and outrage
    "moron": -4, "morons": -4, "idiot": -4, "idiots": -4, "stupid": -3, "pathetic": -3, "useless": -3,
    "incompetent": -3, "scam": -4, "scammed": -4, "rip": -2, "ripoff": -4, "fraud": -4, "thieves": -4,
    "disgusting": -4, "outrageous": -3, "ridiculous": -3, "furious": -4, "angry": -3, "hate": -4,
    "worst": -4, "terrible": -3, "horrible": -3, "awful": -3, "appalling": -3, "unacceptable": -3,
    # negative: problems, costs, leaving
    "bad": -2, "poor": -2, "disappointed": -2, "disappointing": -2, "frustrated": -2, "frustrating": -2,
    "annoyed": -2, "annoying": -2, "upset": -2, "unhappy": -2, "complaint": -2, "complain": -2,
    "wrong": -2, "broken": -2, "fail": -2, "failed": -2, "failure": -2, "problem": -1, "problems": -1,
    "issue": -1, "issues": -1, "error": -1, "mistake": -2, "overcharged": -3, "overcharge": -3,
    "charged": -1, "extra": -1, "expensive": -2, "overpriced": -3, "cancel": -2, "cancelling": -2,
    "canceling": -2, "leave": -2, "leaving": -2, "switch": -1, "switching": -1, "quit": -2, "done": -1,
    "drop": -1, "dropped": -2, "dropping": -2, "slow": -1, "nobody": -1, "again": -1,
    "waste": -2, "wasted": -2, "waiting": -1, "ignored": -2, "rude": -3, "lied": -3, "lie": -3,
    "sucks": -3, "crap": -3, "damn": -2, "unfair": -2, "worse": -3, "lost": -1, "refund": -1,
    # positive: thanks, praise, resolution
    "thank": 2, "thanks": 2, "thankful": 2, "grateful": 3, "appreciate": 2, "appreciated": 2,
    "good": 2, "great": 3, "excellent": 3, "amazing": 4, "awesome": 4, "fantastic": 4, "wonderful": 4,
    "perfect": 3, "love": 3, "loved": 3, "happy": 3, "glad": 2, "pleased": 2, "satisfied": 2,
    "helpful": 2, "friendly": 2, "kind": 2, "quick": 1, "quickly": 1, "fast": 1, "easy": 1,
    "resolve": 2, "resolved": 2, "resolving": 2, "fixed": 2, "fix": 1, "solved": 2, "works": 1,
    "nice": 2, "best": 3, "recommend": 2, "reliable": 2, "fair": 1, "value": 1, "cheap": 1,
    "finally": 1, "upgrade": 1, "welcome": 1, "brilliant": 3, "superb": 3, "impressed": 3,
}  # fmt: skip

NEGATORS: tuple[str, ...] = (
    "not", "no", "never", "don't", "dont", "doesn't", "doesnt", "didn't", "didnt", "isn't", "isnt",
    "wasn't", "wasnt", "aren't", "arent", "won't", "wont", "can't", "cant", "cannot", "couldn't",
    "wouldn't", "without", "hardly", "nobody's", "nothing",
)  # fmt: skip

INTENSIFIERS: tuple[str, ...] = (
    "very", "really", "so", "extremely", "totally", "absolutely", "completely", "incredibly", "super",
)  # fmt: skip

NEGATED_WEIGHT = -0.5
INTENSIFIED_WEIGHT = 1.5
