"""The bearer header and the counter id, before any database."""

import pytest

from balto.core.errors import NotFound, Unauthorized
from balto.counter.admin.auth import INVALID_KEY, MISSING_KEY, bearer_key, counter_id

KEY = "q2Vb3nJ0-x_9aZkLmN4pQrStUvWxYz0123456789Abc"


@pytest.mark.parametrize("header", [f"Bearer {KEY}", f"bearer  {KEY} ", f"BEARER {KEY}"])
def test_bearer_key(header):
    assert bearer_key(header) == KEY


@pytest.mark.parametrize("header", [None, "", "   ", f"Basic {KEY}", KEY, f"Token {KEY}"])
def test_missing_key(header):
    with pytest.raises(Unauthorized) as info:
        bearer_key(header)
    assert info.value.message == MISSING_KEY and info.value.status == 401


@pytest.mark.parametrize(
    "value", ["curta", "x" * 200, "a b c d e f g h i j k", "ção" * 10, KEY + "\x00"]
)
def test_a_value_that_cannot_be_a_key(value):
    with pytest.raises(Unauthorized) as info:
        bearer_key(f"Bearer {value}")
    assert info.value.message == INVALID_KEY


def test_counter_id():
    assert counter_id("42") == 42


@pytest.mark.parametrize("text", ["", "-1", "1.0", "abc", "٣", "9" * 19, "0x10"])
def test_a_path_that_cannot_name_a_counter_is_not_found(text):
    with pytest.raises(NotFound):
        counter_id(text)
