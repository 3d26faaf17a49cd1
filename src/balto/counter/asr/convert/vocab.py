"""Token bytes from a Hugging Face ``tokenizer.json`` (byte-level BPE, GPT-2 alphabet)."""

from __future__ import annotations

import functools
import json


@functools.cache
def byte_decoder() -> dict[str, int]:
    """Inverse of GPT-2's ``bytes_to_unicode``: printable stand-in character → raw byte."""
    printable = (
        list(range(ord("!"), ord("~") + 1))
        + list(range(ord("¡"), ord("¬") + 1))
        + list(range(ord("®"), ord("ÿ") + 1))
    )
    codes = printable[:]
    extra = 0
    for byte in range(256):
        if byte not in printable:
            printable.append(byte)
            codes.append(256 + extra)
            extra += 1
    return {chr(code): byte for byte, code in zip(printable, codes, strict=True)}


def token_bytes(tokenizer_json: bytes | str) -> list[bytes]:
    """Return the raw bytes of every regular token, in id order; special tokens are left out.

    whisper.cpp adds the special tokens (``<|endoftext|>`` onwards) itself.
    """
    document = json.loads(tokenizer_json)
    vocab: dict[str, int] = document["model"]["vocab"]
    special = {int(t["id"]) for t in document.get("added_tokens", []) if t.get("special")}
    regular = sorted((i, text) for text, i in vocab.items() if i not in special)
    if [i for i, _ in regular] != list(range(len(regular))):
        raise ValueError("os ids do vocabulário não são contíguos a partir de zero")
    decoder = byte_decoder()
    try:
        return [bytes(decoder[ch] for ch in text) for _, text in regular]
    except KeyError as exc:
        raise ValueError(f"caractere fora do alfabeto byte-level: {exc}") from exc
