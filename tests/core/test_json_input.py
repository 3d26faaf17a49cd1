"""The one JSON decoding place: every limit, and no other exception for any input."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from balto.core.json_input import InvalidJson, JsonLimits, decode_json, decode_json_object

LIMITS = JsonLimits(max_bytes=4096, max_depth=8, max_number_chars=20)
ROOMY = JsonLimits(max_bytes=1_000_000, max_depth=8, max_number_chars=20)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ('{"api_key": "\\ud800"}', "surrogate"),
        ('["\\udfff"]', "surrogate"),
        ('{"\\ud800": 1}', "surrogate"),  # in a key
        ("1" * 5000, "Número"),  # int() refuses > 4300 digits with ValueError
        ("1" * 21, "Número"),
        ("1e999", "intervalo"),
        ("-1e999", "intervalo"),
        ("NaN", "NaN"),
        ("[Infinity]", "Infinity"),
        ("[" * 100_000 + "]" * 100_000, "aninhado"),  # RecursionError in the C scanner
        ("[" * 9 + "]" * 9, "aninhado"),
        ('{"a": {"b": {"c": {"d": {"e": {"f": {"g": {"h": {}}}}}}}}}', "aninhado"),
        ('{"a": ', "malformado"),
        ("", "malformado"),
        ('"' + "x" * 5000 + '"', "limite"),
    ],
)
def test_refused_with_a_clear_message(text: str, fragment: str) -> None:
    limits = LIMITS if len(text) <= LIMITS.max_bytes or fragment == "limite" else ROOMY
    with pytest.raises(InvalidJson) as info:
        decode_json(text, limits)
    assert fragment in info.value.message
    assert info.value.status == 400


def test_bytes_must_be_utf8_and_within_the_size() -> None:
    with pytest.raises(InvalidJson, match="UTF-8"):
        decode_json(b'"\xed\xa0\x80"', LIMITS)  # an encoded surrogate is not UTF-8
    with pytest.raises(InvalidJson, match="limite"):
        decode_json(b" " * 5000, LIMITS)
    assert decode_json(b'{"nome": "Jo\xc3\xa3o"}', LIMITS) == {"nome": "João"}


def test_what_json_allows_still_passes() -> None:
    assert decode_json('{"emoji": "\\ud83d\\ude00"}', LIMITS) == {"emoji": "😀"}  # a pair
    assert decode_json("[" * 8 + "]" * 8, LIMITS) == [[[[[[[[]]]]]]]]
    assert decode_json("-1234567890123456789", LIMITS) == -1234567890123456789
    assert decode_json("1.5e10", LIMITS) == 1.5e10


def test_object_required() -> None:
    with pytest.raises(InvalidJson, match="objeto"):
        decode_json_object("[1]", LIMITS)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: st.lists(children) | st.dictionaries(st.text(), children),
    max_leaves=30,
)


@settings(max_examples=400)
@given(st.one_of(st.text(), json_values.map(json.dumps), st.binary()))
def test_any_input_decodes_or_raises_invalid_json(data: str | bytes) -> None:
    """Never another exception, and what is returned is safe to store and send (UTF-8)."""
    try:
        value = decode_json(data, LIMITS)
    except InvalidJson:
        return
    json.dumps(value, ensure_ascii=False).encode("utf-8")
