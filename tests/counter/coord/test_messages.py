"""The coordination channel's messages, sans-IO: each kind round-trips; garbage is refused."""

from __future__ import annotations

import json

import pytest

from balto.counter.coord.messages import (
    BadMessage,
    ChainDeleted,
    CounterKeyRotated,
    CounterRevoked,
    Envelope,
    FeedEvent,
    RulesChanged,
    decode,
    encode,
)

MESSAGES = [
    RulesChanged(7, 3),
    CounterRevoked(42),
    CounterKeyRotated(42, "ab" * 32),
    ChainDeleted(7, (1, 2, 3)),
    ChainDeleted(8, ()),
    FeedEvent(7, "recomendacao", {"balcao_id": 1, "mensagem": "Sugerir Dorflex", "produto": None}),
]


@pytest.mark.parametrize("message", MESSAGES)
def test_round_trip(message) -> None:
    data = encode("abc123", message)
    assert b"\n" not in data
    assert decode(data) == Envelope("abc123", message)


def test_the_wire_spelling() -> None:
    assert json.loads(encode("x", CounterKeyRotated(4, "f0" * 32))) == {
        "de": "x",
        "tipo": "trocar_chave",
        "balcao": 4,
        "chave": "f0" * 32,
    }
    assert json.loads(encode("x", RulesChanged(7, 3))) == {
        "de": "x",
        "tipo": "regras",
        "cliente": 7,
        "revisao": 3,
    }
    assert json.loads(encode("x", FeedEvent(7, "feedback", {"resultado": "venda_realizada"}))) == {
        "de": "x",
        "tipo": "feed",
        "cliente": 7,
        "evento": "feedback",
        "dados": {"resultado": "venda_realizada"},
    }


@pytest.mark.parametrize(
    "data",
    [
        b"\xff",
        b"not json",
        b"[]",
        b'{"tipo": "regras", "cliente": 1, "revisao": 2}',  # no origin
        b'{"de": "x", "tipo": "voar"}',
        b'{"de": "x", "tipo": "regras", "cliente": "1", "revisao": 2}',
        b'{"de": "x", "tipo": "regras", "cliente": true, "revisao": 2}',
        b'{"de": "x", "tipo": "revogar", "balcao": -1}',
        b'{"de": "x", "tipo": "apagar", "cliente": 1, "balcoes": [1, "2"]}',
        b'{"de": "x", "tipo": "feed", "cliente": 1, "evento": "feedback", "dados": []}',
    ],
)
def test_garbage_is_a_bad_message(data: bytes) -> None:
    with pytest.raises(BadMessage):
        decode(data)
