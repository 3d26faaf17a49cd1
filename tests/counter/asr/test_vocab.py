from __future__ import annotations

import json

import pytest

from balto.counter.asr.convert.vocab import byte_decoder, token_bytes
from tests.counter.asr.ct2_fixtures import tokenizer_json


def test_byte_decoder_is_a_bijection_over_bytes() -> None:
    decoder = byte_decoder()
    assert len(decoder) == 256
    assert sorted(decoder.values()) == list(range(256))
    assert decoder["Ġ"] == 0x20  # GPT-2's stand-in for a space
    assert decoder["!"] == ord("!")


def test_token_bytes_in_id_order_without_specials() -> None:
    tokens = token_bytes(tokenizer_json(300))
    assert len(tokens) == 300
    assert tokens[0] == b"\x00"
    assert tokens[ord("A")] == b"A"
    assert tokens[256 + 3] == b"\x03\x03"


def test_multibyte_tokens_are_recovered() -> None:
    doc = {"model": {"vocab": {"Ġc": 0, "Ã§": 1, "Ã£o": 2}}, "added_tokens": []}
    assert token_bytes(json.dumps(doc)) == [b" c", "ç".encode(), "ão".encode()]


def test_gaps_in_ids_are_rejected() -> None:
    doc = {"model": {"vocab": {"a": 0, "b": 2}}, "added_tokens": []}
    with pytest.raises(ValueError, match="contíguos"):
        token_bytes(json.dumps(doc))
