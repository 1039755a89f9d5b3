"""verify's TOTP codes against RFC 6238 Appendix B and RFC 4226 Appendix D, and one code per time step."""

from __future__ import annotations

import base64

import pytest

from churnguard.verify.totp import Authenticator, hotp, secret_key, time_step

# RFC 6238 Appendix B: the SHA-1 seed is the ASCII string "12345678901234567890"; the table gives
# eight digits, whose last six are the six-digit code.
RFC_6238_SEED = b"12345678901234567890"
RFC_6238_SHA1 = [
    (59, "94287082"),
    (1111111109, "07081804"),
    (1111111111, "14050471"),
    (1234567890, "89005924"),
    (2000000000, "69279037"),
    (20000000000, "65353130"),
]
# RFC 4226 Appendix D: HOTP values for counters 0-9 with the same seed.
RFC_4226 = [
    "755224",
    "287082",
    "359152",
    "969429",
    "338314",
    "254676",
    "287922",
    "162583",
    "399871",
    "520489",
]


@pytest.mark.parametrize(("at", "expected"), RFC_6238_SHA1)
def test_codes_match_rfc_6238(at: int, expected: str) -> None:
    assert hotp(RFC_6238_SEED, time_step(at), digits=8) == expected
    assert hotp(RFC_6238_SEED, time_step(at)) == expected[-6:]


def test_counters_match_rfc_4226() -> None:
    assert [hotp(RFC_6238_SEED, counter) for counter in range(10)] == RFC_4226


def test_a_base32_secret_as_cognito_returns_it_is_read_without_padding_in_any_case() -> None:
    secret = base64.b32encode(RFC_6238_SEED).decode().rstrip("=")
    assert secret_key(secret) == RFC_6238_SEED
    assert secret_key(secret.lower()) == RFC_6238_SEED


def test_the_authenticator_never_gives_two_codes_from_one_time_step() -> None:
    now = [59.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    secret = base64.b32encode(RFC_6238_SEED).decode()
    app = Authenticator(secret, clock=lambda: now[0], sleep=sleep)
    assert app.code() == "287082"  # step 1 (t = 59)
    now[0] = 59.5
    assert app.code() == "359152"  # step 2, after waiting 0.5 s for it
    assert slept == [pytest.approx(0.5)]
    now[0] = 200.0
    assert app.code() == RFC_4226[6]  # a later step: no wait
    assert len(slept) == 1
