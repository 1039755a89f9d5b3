"""Time-based one-time passwords (RFC 6238) for verify's temporary console agent.

A Cognito user pool that requires MFA asks a new user to set up an authenticator app (the MFA_SETUP
challenge) and then for its code. verify answers as an authenticator app would: HMAC-SHA1 over the
number of 30-second steps since the Unix epoch, keyed by the base32 secret Cognito returns from
AssociateSoftwareToken, truncated to six digits (RFC 4226 section 5.3). Standard library only; tested
against RFC 6238's own test vectors.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import struct
import time
from collections.abc import Callable

STEP_S = 30
DIGITS = 6


def time_step(at: float, step_s: int = STEP_S) -> int:
    """The RFC 6238 counter T for Unix time `at`: whole steps since the epoch."""
    return int(at // step_s)


def hotp(key: bytes, counter: int, digits: int = DIGITS) -> str:
    """RFC 4226's HOTP value for `counter`, as a string of `digits` digits (leading zeros kept)."""
    digest = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    number = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return str(number % 10**digits).zfill(digits)


def secret_key(secret_base32: str) -> bytes:
    """The key behind a base32 secret as authenticator apps read it (padding optional, any case)."""
    text = secret_base32.strip().replace(" ", "").upper()
    return base64.b32decode(text + "=" * (-len(text) % 8))


class Authenticator:
    """An authenticator app for one secret: each code it gives comes from a time step it has not
    used before, waiting for the next step when needed, because a verifier may refuse a code it has
    already accepted (RFC 6238 section 5.2: "The verifier MUST NOT accept the second attempt of the
    OTP after the successful validation has been issued for the first OTP")."""

    def __init__(
        self,
        secret_base32: str,
        *,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._key = secret_key(secret_base32)
        self._clock = clock
        self._sleep = sleep
        self._last_step: int | None = None

    def code(self) -> str:
        now = self._clock()
        step = time_step(now)
        if self._last_step is not None and step <= self._last_step:
            self._sleep((self._last_step + 1) * STEP_S - now)
            step = self._last_step + 1
        self._last_step = step
        return hotp(self._key, step)
