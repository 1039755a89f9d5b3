"""A synthetic customer table and customer-service messages shaped like the public churn data set.

The demo and the tests need realistic customers without the real file: same columns and value ranges,
~14.5% churn driven by the factors seen in the public data (service calls, the international plan,
heavy day-time use), and two fixed customers whose risk is unmistakable so examples always show a
high and a low score.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from churnguard.customer_schema import COLUMN_NAMES

# The 50 states plus DC, as in the public data set.
STATES: tuple[str, ...] = (
    "AK", "AL", "AR", "AZ", "CA", "CO", "CT", "DC", "DE", "FL", "GA", "HI", "IA", "ID", "IL", "IN", "KS",
    "KY", "LA", "MA", "MD", "ME", "MI", "MN", "MO", "MS", "MT", "NC", "ND", "NE", "NH", "NJ", "NM", "NV",
    "NY", "OH", "OK", "OR", "PA", "RI", "SC", "SD", "TN", "TX", "UT", "VA", "VT", "WA", "WI", "WV", "WY",
)  # fmt: skip
AREA_CODES: tuple[int, ...] = (408, 415, 510)
AREA_CODE_SHARES: tuple[float, ...] = (0.25, 0.50, 0.25)
TARGET_CHURN_RATE = 0.145
# Scales the churn log-odds so that a well-tuned model reaches a test AUC near the public data's (~0.93).
SIGNAL_STRENGTH = 1.6

# Per-minute prices of the public data set; charges are always minutes times these, rounded to cents.
PRICE_PER_MINUTE: dict[str, float] = {"day": 0.17, "eve": 0.085, "night": 0.045, "intl": 0.27}


def with_charges(customer: dict[str, object]) -> dict[str, object]:
    """The row with its charge columns filled in from its minutes, in schema column order."""
    row = dict(customer)
    for period, price in PRICE_PER_MINUTE.items():
        row[f"{period}_charge"] = round(float(row[f"{period}_mins"]) * price, 2)  # type: ignore[arg-type]
    return {column: row[column] for column in COLUMN_NAMES}


HIGH_RISK_CUSTOMER: dict[str, object] = with_charges({
    "state": "NJ", "acc_length": 137, "area_code": 415, "phone": "358-1921", "int_plan": "yes",
    "vmail_plan": "no", "vmail_msg": 0, "day_mins": 335.4, "day_calls": 114, "eve_mins": 290.2,
    "eve_calls": 110, "night_mins": 262.6, "night_calls": 104, "intl_mins": 17.2, "intl_calls": 2,
    "cust_service_calls": 6, "churn": True,
})  # fmt: skip
LOW_RISK_CUSTOMER: dict[str, object] = with_charges({
    "state": "OH", "acc_length": 84, "area_code": 408, "phone": "375-9999", "int_plan": "no",
    "vmail_plan": "yes", "vmail_msg": 31, "day_mins": 139.4, "day_calls": 101, "eve_mins": 161.9,
    "eve_calls": 88, "night_mins": 196.9, "night_calls": 89, "intl_mins": 6.6, "intl_calls": 5,
    "cust_service_calls": 1, "churn": False,
})  # fmt: skip
FIXED_CUSTOMERS = (HIGH_RISK_CUSTOMER, LOW_RISK_CUSTOMER)


def generate_customers(n_rows: int, seed: int) -> pd.DataFrame:
    """`n_rows` customers with the columns of churnguard.customer_schema, the same for the same seed.

    The two fixed customers (415/358-1921 high risk, 408/375-9999 low risk) are always rows 2 and 3
    (rows 0 and 1 when the table is smaller), where the reference's sample customers sit.
    """
    if n_rows < len(FIXED_CUSTOMERS):
        raise ValueError(f"n_rows must be at least {len(FIXED_CUSTOMERS)} (the fixed sample customers)")
    rng = np.random.default_rng(seed)
    n_random = n_rows - len(FIXED_CUSTOMERS)
    frame = pd.DataFrame(
        {
            "state": rng.choice(STATES, size=n_random),
            "acc_length": _clipped_normal(rng, 101, 40, 1, 243, n_random).round().astype(int),
            "area_code": rng.choice(AREA_CODES, size=n_random, p=AREA_CODE_SHARES),
            "phone": _unique_phones(rng, n_random),
            "int_plan": np.where(rng.random(n_random) < 0.097, "yes", "no"),
            "vmail_plan": np.where(rng.random(n_random) < 0.277, "yes", "no"),
        }
    )
    frame["vmail_msg"] = np.where(
        frame["vmail_plan"] == "yes", _clipped_normal(rng, 29, 7.5, 1, 51, n_random).round(), 0
    ).astype(int)
    usage = {"day": (179.8, 54.5, 350.8), "eve": (201.0, 50.7, 363.7), "night": (200.9, 50.6, 395.0)}
    for period, (mean, spread, top) in usage.items():
        frame[f"{period}_mins"] = _clipped_normal(rng, mean, spread, 0, top, n_random).round(1)
        frame[f"{period}_calls"] = _clipped_normal(rng, 100, 20, 0, 170, n_random).round().astype(int)
    frame["intl_mins"] = _clipped_normal(rng, 10.2, 2.8, 0, 20, n_random).round(1)
    frame["intl_calls"] = rng.poisson(4.5, n_random)
    frame["cust_service_calls"] = np.minimum(rng.poisson(1.56, n_random), 9)
    frame["churn"] = _draw_churn(frame, rng)
    fixed = pd.DataFrame(list(FIXED_CUSTOMERS))
    position = 2 if n_random >= 2 else 0
    for period, price in PRICE_PER_MINUTE.items():
        frame[f"{period}_charge"] = (frame[f"{period}_mins"] * price).round(2)
    customers = pd.concat([frame.iloc[:position], fixed, frame.iloc[position:]], ignore_index=True)
    customers["churn"] = customers["churn"].astype(bool)
    return customers[list(COLUMN_NAMES)]


def _clipped_normal(
    rng: np.random.Generator, mean: float, spread: float, low: float, high: float, size: int
) -> np.ndarray:
    return np.clip(rng.normal(mean, spread, size), low, high)


def _unique_phones(rng: np.random.Generator, count: int) -> list[str]:
    """Distinct 'NNN-NNNN' numbers (3xx/4xx exchanges as in the public data), never a fixed customer's."""
    reserved = {int(str(customer["phone"]).replace("-", "")) for customer in FIXED_CUSTOMERS}
    pool_size = 2_000_000  # 300-0000 .. 499-9999
    if count > pool_size - len(reserved):
        raise ValueError(f"cannot make {count} distinct phone numbers (at most {pool_size - len(reserved)})")
    picked = rng.choice(pool_size, size=count + len(reserved), replace=False) + 3_000_000
    numbers = [number for number in picked.tolist() if number not in reserved][:count]
    return [f"{number // 10_000:03d}-{number % 10_000:04d}" for number in numbers]


def churn_logit(frame: pd.DataFrame) -> np.ndarray:
    """Churn log-odds before the intercept: the patterns of the public data, made explicit.

    Many service calls (worse when usage is low: an unhappy light user), the international plan
    (worse with heavy international use), a high total bill, and no voicemail plan raise the risk.
    """
    calls = frame["cust_service_calls"].to_numpy(dtype=float)
    int_plan = (frame["int_plan"] == "yes").to_numpy(dtype=float)
    bill = sum(
        frame[f"{period}_mins"].to_numpy(dtype=float) * price for period, price in PRICE_PER_MINUTE.items()
    )
    day_mins = frame["day_mins"].to_numpy(dtype=float)
    intl_mins = frame["intl_mins"].to_numpy(dtype=float)
    return SIGNAL_STRENGTH * (
        2.6 * (calls >= 4) * (1.0 + (day_mins < 180))
        + 0.25 * calls
        + 2.2 * int_plan
        + 2.0 * int_plan * ((intl_mins > 13) | (frame["intl_calls"].to_numpy() < 3))
        + 0.12 * np.maximum(bill - 60.0, 0.0)
        - 0.9 * (frame["vmail_plan"] == "yes").to_numpy(dtype=float)
    )


def _draw_churn(frame: pd.DataFrame, rng: np.random.Generator) -> np.ndarray:
    """Bernoulli draws whose mean is TARGET_CHURN_RATE: the intercept is found by bisection."""
    if frame.empty:
        return np.zeros(0, dtype=bool)
    logit = churn_logit(frame)
    low, high = -20.0, 20.0
    for _ in range(60):
        intercept = (low + high) / 2
        rate = float(np.mean(1.0 / (1.0 + np.exp(-(logit + intercept)))))
        low, high = (intercept, high) if rate < TARGET_CHURN_RATE else (low, intercept)
    probability = 1.0 / (1.0 + np.exp(-(logit + (low + high) / 2)))
    return rng.random(len(frame)) < probability


MESSAGES: dict[str, tuple[str, ...]] = {
    "positive": (
        "I've been with you for years and I'm really happy with the service. Thanks!",
        "The agent was great, she fixed my voicemail in two minutes. Much appreciated.",
        'Just wanted to say the new "family" bundle is excellent value, keep it up.',
        "Coverage at my parents' place is finally good. Thank you for the upgrade!",
    ),
    "neutral": (
        "Can you tell me when my contract ends?",
        "I'd like to know what the international plan costs per minute.",
        "Please send me a copy of last month's bill.",
        'What\'s the difference between the "basic" and the "plus" plan?',
    ),
    "negative": (
        "This is the third time I'm calling about the same problem and nobody's fixed it. I'm done.",
        'My bill is way too high again. Your competitor\'s "unlimited" offer is half the price.',
        "Calls keep dropping and your support doesn't care. I'm thinking of cancelling.",
        "I was charged for international calls I never made. Terrible service, I want to leave.",
    ),
}
TONES: tuple[str, ...] = ("positive", "neutral", "negative")


def generate_messages(customers: pd.DataFrame, seed: int) -> pd.DataFrame:
    """One customer-service message per customer: mostly negative for churners and frequent callers.

    The fixed high-risk customer always sends a negative message and the low-risk one a positive one,
    so the demo shows both ends of the sentiment scale.
    """
    rng = np.random.default_rng(seed)
    unhappy = customers["churn"].astype(bool).to_numpy() | (customers["cust_service_calls"].to_numpy() >= 4)
    tone_shares = np.where(unhappy[:, None], [0.1, 0.25, 0.65], [0.45, 0.4, 0.15])
    draws = rng.random(len(customers))
    tone_index = (draws[:, None] > np.cumsum(tone_shares, axis=1)).sum(axis=1).clip(0, 2)
    tones = [TONES[index] for index in tone_index]
    for fixed, tone in ((HIGH_RISK_CUSTOMER, "negative"), (LOW_RISK_CUSTOMER, "positive")):
        match = (customers["area_code"].astype(int) == fixed["area_code"]) & (
            customers["phone"] == fixed["phone"]
        )
        for position in np.flatnonzero(match.to_numpy()):
            tones[position] = tone
    picks = rng.integers(0, 1_000_000, len(customers))
    messages = [MESSAGES[tone][pick % len(MESSAGES[tone])] for tone, pick in zip(tones, picks, strict=True)]
    return pd.DataFrame(
        {
            "area_code": customers["area_code"].astype(int).to_numpy(),
            "phone": customers["phone"].to_numpy(),
            "message": messages,
            "tone": tones,
        }
    )
