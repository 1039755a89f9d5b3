"""Checks a call-centre request (area code, phone, message) before anything touches the database.

Shared by the CLI and the Lambda, so both refuse the same input with the same words. Messages are data:
quotes, backslashes, SQL, format strings, emoji and NUL bytes pass through untouched and are bound as
parameters. Only their size is changed: Amazon Comprehend takes at most 5,000 bytes of UTF-8, so a
longer message is cut at the last whole character within that limit, and the answer says so.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from churnguard.errors import UserError

COMPREHEND_MAX_BYTES = 5000
_PHONE = re.compile(r"[0-9]{3}-[0-9]{4}")
# A full North American number (area code included), as people often type it: 415-358-1921,
# (415) 358-1921, 415.358.1921, 4153581921.
_PHONE_WITH_AREA_CODE = re.compile(r"\(?([1-9][0-9]{2})\)?[ .-]?([0-9]{3})[ .-]?([0-9]{4})")
_AREA_CODE = re.compile(r"[1-9][0-9]{2}")


class InvalidRequestError(UserError):
    """The request itself is wrong (not the database): the message says which field and why."""


class PhoneWithAreaCodeError(InvalidRequestError):
    """The phone holds a whole number, area code included. The message does not repeat it (it may be
    logged); `area_code` and `local_number` let a caller that talks to the person who typed it (the
    CLI) suggest the split."""

    def __init__(self, area_code: str, local_number: str) -> None:
        super().__init__(
            "phone must look like NNN-NNNN: this one seems to include the area code (NNN-NNN-NNNN); "
            "give the first three digits as the area code and the last seven as the phone"
        )
        self.area_code = area_code
        self.local_number = local_number


@dataclass(frozen=True)
class CallRequest:
    area_code: int
    phone: str
    message: str
    message_truncated: bool
    original_message_bytes: int


def validate_request(area_code: Any, phone: Any, message: Any) -> CallRequest:
    """Normalise and check the three inputs; raise InvalidRequestError naming the first bad one.

    The error never repeats the phone number or the message, so it is safe to log.
    """
    checked_area_code, checked_phone = validate_customer_key(area_code, phone)
    return CallRequest(area_code=checked_area_code, phone=checked_phone, **_message(message))


def validate_customer_key(area_code: Any, phone: Any) -> tuple[int, str]:
    """The customer key (area code, phone) normalised, or InvalidRequestError naming the bad part."""
    return _area_code(area_code), _phone(phone)


def _area_code(value: Any) -> int:
    if isinstance(value, bool):
        raise InvalidRequestError("area code must be a 3-digit number such as 415, not a boolean")
    text = str(value).strip() if isinstance(value, int | str) else None
    if text is None or not _AREA_CODE.fullmatch(text):
        raise InvalidRequestError(
            "area code must be a 3-digit number such as 415 (digits only, not starting with 0)"
        )
    return int(text)


def _phone(value: Any) -> str:
    text = value.strip() if isinstance(value, str) else None
    if text is not None and not _PHONE.fullmatch(text):
        whole = _PHONE_WITH_AREA_CODE.fullmatch(text)
        if whole:
            raise PhoneWithAreaCodeError(whole.group(1), f"{whole.group(2)}-{whole.group(3)}")
    if text is None or not _PHONE.fullmatch(text):
        raise InvalidRequestError("phone must look like NNN-NNNN (seven digits with a dash, e.g. 555-0100)")
    return text


def _message(value: Any) -> dict[str, Any]:
    if not isinstance(value, str):
        raise InvalidRequestError("message must be text")
    if not value.strip():
        raise InvalidRequestError("message is empty: give the customer's words to read their sentiment")
    try:
        encoded = value.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidRequestError(
            "message is not valid Unicode text (it holds an unpaired surrogate)"
        ) from None
    if len(encoded) <= COMPREHEND_MAX_BYTES:
        return {"message": value, "message_truncated": False, "original_message_bytes": len(encoded)}
    # The cut may split a multi-byte character; "ignore" drops only that trailing fragment.
    truncated = encoded[:COMPREHEND_MAX_BYTES].decode("utf-8", errors="ignore")
    return {"message": truncated, "message_truncated": True, "original_message_bytes": len(encoded)}
