"""What a JSON request body may be, for every entry point that reads one (the local console, the
recommend API, the deployed console's API): one set of limits, checked before the body is parsed.

The requests are small flat objects (an area code, a phone number, a message Comprehend cuts to
5,000 bytes), so the limits sit far above any real call and far below what costs the parser:
- at most MAX_BODY_BYTES (64 KB) of body, else 413;
- arrays and objects nested at most MAX_DEPTH deep, counted before parsing (json's parser recurses
  once per level, so 1,000 levels in 2 KB would end in a RecursionError), else 400;
- numbers of at most MAX_NUMBER_CHARS characters (Python refuses to convert an integer of more than
  4,300 digits, and a float that long only rounds to infinity), else 400;
- no NaN, Infinity or -Infinity (Python's json accepts them; RFC 8259 has no such numbers), else 400;
- the media type application/json, compared case-insensitively, with parameters allowed (RFC 9110
  §8.3.1), and no charset but UTF-8 (RFC 8259 §8.1), else 415.
Imports: standard library and churnguard.errors only, as everything a Lambda bundle holds.
"""

from __future__ import annotations

import json
import re
from typing import Any

from churnguard.errors import UserError

MAX_BODY_BYTES = 64 * 1024
MAX_DEPTH = 32
MAX_NUMBER_CHARS = 40
JSON_MEDIA_TYPE = "application/json"
# A bracket, or a JSON string literal (escapes included, brackets inside it nesting nothing). An
# unclosed string runs to the end, so every match resumes where the last ended: one pass, linear.
_BRACKET_OR_STRING = re.compile(rb'[\[\]{}]|"(?:[^"\\]|\\.)*"?', re.DOTALL)


class RequestRefused(UserError):
    """The request's body or media type is not one a call takes; `status` is the HTTP answer."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def too_large() -> RequestRefused:
    return RequestRefused(413, f"the request body is larger than {MAX_BODY_BYTES // 1024} KB")


def check_media_type(content_type: str | None) -> None:
    """Accept application/json in any letter case, with parameters (a charset of UTF-8 only)."""
    media_type, *parameters = (content_type or "").split(";")
    if media_type.strip().lower() != JSON_MEDIA_TYPE:
        raise RequestRefused(415, "send the request as JSON (content-type application/json)")
    for parameter in parameters:
        name, _, value = parameter.partition("=")
        charset = value.strip().strip('"').lower()
        if name.strip().lower() == "charset" and charset not in ("utf-8", "utf8"):
            raise RequestRefused(415, f"send the request as UTF-8 JSON (not charset={charset})")


def parse_json(raw: bytes, *, expected: str) -> Any:
    """The body decoded as JSON within the limits above, or RequestRefused naming the one it broke;
    `expected` tells the caller what to send when the body is not JSON at all."""
    if len(raw) > MAX_BODY_BYTES:
        raise too_large()
    _check_depth(raw)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise RequestRefused(400, "the request body is not UTF-8 text") from None
    try:
        return json.loads(text, parse_int=_integer, parse_float=_float, parse_constant=_constant)
    except json.JSONDecodeError as error:
        raise RequestRefused(
            400, f"the request body is not valid JSON ({error.msg}); send {expected}"
        ) from None


def _check_depth(raw: bytes) -> None:
    depth = 0
    for token in _BRACKET_OR_STRING.findall(raw):
        if token in (b"[", b"{"):
            depth += 1
        elif token in (b"]", b"}"):
            depth -= 1
        if depth > MAX_DEPTH:
            raise RequestRefused(400, f"the request body nests arrays or objects more than {MAX_DEPTH} deep")


def _number_text(text: str) -> str:
    if len(text) > MAX_NUMBER_CHARS:
        raise RequestRefused(400, f"the request body has a number longer than {MAX_NUMBER_CHARS} characters")
    return text


def _integer(text: str) -> int:
    return int(_number_text(text))


def _float(text: str) -> float:
    return float(_number_text(text))


def _constant(name: str) -> Any:
    raise RequestRefused(400, f"the request body has {name}, which is not a JSON number")
