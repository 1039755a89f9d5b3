"""The phrases behind the local call_reason stand-in, written for this project from the tuning
messages in tests/call_reason/messages_tuning.csv (never from the held-out ones).

Each label's phrases carry a weight; a message scores, for each label, the sum of the weights of
the phrases it contains (each counted once), and the highest score wins. A phrase is whole words
(" no signal "), or a word start when it ends in "*" ("cancel*": cancel, cancelled, cancellation).
Phrases are matched after the same normalisation as messages (lower case, apostrophes dropped,
anything but a-z and 0-9 a space): write "dont", not "don't".
"""

from __future__ import annotations

_COUNTRIES = (
    "europe", "france", "spain", "italy", "germany", "greece", "poland", "uk", "england", "ireland",
    "portugal", "netherlands", "mexico", "canada", "brazil", "argentina", "japan", "china", "india",
    "thailand", "australia", "philippines", "nigeria", "morocco", "egypt", "turkey", "vietnam",
    "korea", "pakistan", "colombia", "jamaica", "dubai",
)  # fmt: skip

PHRASES: dict[str, dict[str, float]] = {
    "cancellation": {
        "cancel*": 4, "terminat*": 4, "close my account": 4, "close the account": 4, "close my line": 4,
        "close the line": 4, "end my contract": 4, "end my service": 4, "leave": 4, "leaving": 4,
        "im switching": 4, "switching to another": 4, "switching to a different": 4,
        "another provider": 4, "another carrier": 4, "another company": 4, "another network": 4,
        "different carrier": 4, "different provider": 4, "port my number": 4, "port out": 4,
        "transfer my number": 4, "move my number": 4, "pac code": 4, "disconnect*": 4, "deactivat*": 4,
        "quit": 4, "discontinu*": 4, "out of my contract": 4, "done with you": 4, "im done": 4,
        "not renewing": 4, "dont renew": 4, "competitor": 4, "stop my service": 4,
        "no longer want": 4, "final bill": 2, "better deal": 2,
    },
    "billing_dispute": {
        "overcharg*": 3, "charged me": 3, "charged for": 3, "charging me": 3, "charged twice": 3,
        "double charg*": 3, "refund*": 3, "disput*": 3, "billed": 3, "billed for": 3, "invoice*": 3,
        "charge on my": 3, "charges": 2, "charge*": 1, "bill": 2, "bills": 2, "billing": 3, "fee": 2,
        "fees": 2, "payment": 2, "paid": 2, "pay": 1, "autopay": 3, "direct debit": 3, "statement": 2,
        "owe": 2, "money back": 3, "took money": 3, "price went up": 3, "price": 1, "credit": 2,
        "discount": 2, "amount": 2, "twice": 1, "double": 1, "too high": 2, "dollars": 1,
        "didnt make": 2, "never made": 2, "never asked": 2, "subscription": 1,
    },
    "international_roaming": {
        "roaming": 4, "abroad": 4, "overseas": 4, "international": 3, "another country": 3,
        "country": 2, "countries": 2, "travel*": 2, "trip": 2, "holiday": 2, "vacation": 2, "flying": 1,
        "dial": 2, "calls to": 1, "call to": 1, "calling": 1, "day pass": 2, "will i be charged": 2,
        "rate": 1, "rates": 1, **{country: 2 for country in _COUNTRIES},
    },
    "network_quality": {
        "no signal": 3, "signal": 3, "reception": 3, "coverage": 3, "dropped": 3, "dropping": 3,
        "drops": 3, "outage": 3, "no service": 3, "no bars": 3, "one bar": 3, "network": 3, "mast": 3,
        "tower": 3, "dead zone": 3, "line goes dead": 3, "not being delivered": 3, "slow": 2,
        "cutting out": 2, "cut out": 2, "cuts out": 2, "no network": 2, "connection": 2,
        "not working": 2, "nothing is working": 2, "breaking up": 2, "choppy": 2, "crackl*": 2,
        "call quality": 2, "barely hear": 2, "data speed": 2, "internet": 2, "mobile data": 1,
        "4g": 2, "5g": 2, "lte": 2, "bars": 2, "fails": 2, "failed": 2, "no data": 2, "down": 1,
    },
    "plan_change": {
        "change my plan": 3, "upgrade*": 3, "downgrade*": 3, "cheaper plan": 3, "cheapest": 2,
        "add a line": 3, "another line": 3, "second line": 3, "add another": 2, "family plan": 3,
        "unlimited": 2, "more data": 3, "more minutes": 3, "lot of data": 2, "add on": 3, "bundle": 2,
        "tariff*": 3, "package": 2, "prepaid": 3, "sim only": 3, "allowance": 3, "student plan": 3,
        "switch to the": 2, "switch me to": 3, "change me to": 3, "change from": 3, "move to a": 2,
        "add the": 2, "add a": 2, "remove the": 1, "plan": 1, "plans": 1,
    },
}  # fmt: skip

# When two labels score the same, the first in this order wins: a wish to leave is the one an agent
# must not miss, a dispute on the bill outranks the plan it is about, a signal problem abroad is roaming.
PRIORITY: tuple[str, ...] = (
    "cancellation",
    "billing_dispute",
    "international_roaming",
    "network_quality",
    "plan_change",
)
