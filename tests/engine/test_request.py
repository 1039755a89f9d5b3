"""Request checks: bad area codes, phones and messages are refused; odd but valid messages pass as data."""

from __future__ import annotations

import pytest

from churnguard.engine.request import COMPREHEND_MAX_BYTES, InvalidRequestError, validate_request


@pytest.mark.parametrize(
    "area_code", ["41", "4150", "041", "abc", "", " ", "415; DROP TABLE x", 41.5, None, True]
)
def test_malformed_area_codes_are_refused(area_code):
    with pytest.raises(InvalidRequestError, match="area code must be a 3-digit number"):
        validate_request(area_code, "358-1921", "hello")


@pytest.mark.parametrize(
    "phone", ["3581921", "358-192", "358 1921", "35a-1921", "", "358-1921' OR '1'='1", 3581921]
)
def test_malformed_phones_are_refused_without_echoing_them(phone):
    with pytest.raises(InvalidRequestError, match="phone must look like NNN-NNNN") as raised:
        validate_request(415, phone, "hello")
    assert str(raised.value) == "phone must look like NNN-NNNN (seven digits with a dash, e.g. 555-0100)"


@pytest.mark.parametrize("message", ["", "   \n\t", None, 42])
def test_empty_or_non_text_messages_are_refused(message):
    with pytest.raises(InvalidRequestError, match="message"):
        validate_request(415, "358-1921", message)


def test_unpaired_surrogates_are_refused():
    with pytest.raises(InvalidRequestError, match="not valid Unicode"):
        validate_request(415, "358-1921", "bad \udcff byte")


def test_area_code_and_phone_are_normalised():
    request = validate_request(" 415 ", " 358-1921 ", "hi")
    assert (request.area_code, request.phone) == (415, "358-1921")
    assert validate_request(408, "375-9999", "hi").area_code == 408


@pytest.mark.parametrize(
    "message",
    [
        'It\'s "bad" \\ really',
        "'; DROP TABLE customers; --",
        "%(phone)s %s {0} {message}",
        "nul\x00byte",
        "emoji 😡📱",
    ],
)
def test_odd_messages_pass_through_unchanged(message):
    request = validate_request(415, "358-1921", message)
    assert request.message == message
    assert request.message_truncated is False


def test_long_messages_are_cut_at_a_character_boundary_within_comprehends_limit():
    message = "a" + "😡" * 2000  # 1 + 4 * 2000 bytes: the limit falls inside an emoji
    request = validate_request(415, "358-1921", message)
    assert request.message_truncated
    assert request.original_message_bytes == 8001
    encoded = request.message.encode("utf-8")
    assert len(encoded) == 4997  # "a" + 1249 whole emoji; the split 1250th is dropped
    assert message.startswith(request.message)


def test_a_message_of_exactly_the_limit_is_kept_whole():
    message = "é" * (COMPREHEND_MAX_BYTES // 2)
    request = validate_request(415, "358-1921", message)
    assert request.message == message and not request.message_truncated
