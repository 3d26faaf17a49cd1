"""Codes, API keys and management keys: generated with ``secrets``; keys are stored only as a
SHA-256 hash and compared in constant time."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid


def new_codigo() -> str:
    """Six unpredictable digits (uniqueness is the database's job)."""
    return f"{secrets.randbelow(1_000_000):06d}"


def new_api_key() -> str:
    return str(uuid.UUID(bytes=secrets.token_bytes(16), version=4))


def hash_api_key(api_key: str) -> str:
    # The keys carry 122 random bits, so a fast hash cannot be brute-forced; salting adds nothing.
    return hashlib.sha256(api_key.strip().lower().encode("utf-8")).hexdigest()


def new_chave_admin() -> str:
    """A chain's management key: 256 random bits, URL-safe base64 (43 characters)."""
    return secrets.token_urlsafe(32)


def hash_chave_admin(chave: str) -> str:
    # 256 random bits: a fast unsalted hash is as safe as a slow one here (nothing to guess).
    return hashlib.sha256(chave.encode("utf-8")).hexdigest()


def same_secret(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode("utf-8"), b.encode("utf-8"))
