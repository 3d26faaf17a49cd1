"""Validation of the registration bodies. Pure functions; errors name the field, in Portuguese."""

from __future__ import annotations

import dataclasses
import re
import unicodedata
from collections.abc import Mapping
from typing import Any

from balto.core.errors import BadRequest

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]{2,}$")
CODIGO_RE = re.compile(r"[0-9]{6}")  # ASCII digits: \d also takes "٣"
INVALID_CODE = "Código de usuário inválido"
TELEFONE_RE = re.compile(r"[0-9]{10,13}")  # ASCII digits only: str.isdigit() takes "²" and "٣"
#: Bidirectional overrides and isolates: they make a stored name display as another text
#: (CVE-2021-42574, "Trojan Source") in the panels and logs that show it.
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


@dataclasses.dataclass(frozen=True, slots=True)
class NewCliente:
    email: str
    razao_social: str
    telefone: str


@dataclasses.dataclass(frozen=True, slots=True)
class NewBalcao:
    nome_balcao: str
    user_codigo: str


def _check_fields(body: Mapping[str, Any], required: tuple[str, ...]) -> None:
    unknown = sorted(set(body) - set(required))
    if unknown:
        raise BadRequest(f"Campo(s) desconhecido(s): {', '.join(unknown)}")
    missing = [name for name in required if name not in body]
    if missing:
        raise BadRequest(f"Campo obrigatório ausente: {', '.join(missing)}")


def _text(body: Mapping[str, Any], name: str, *, max_len: int) -> str:
    value = body[name]
    if not isinstance(value, str):
        raise BadRequest(f"Campo '{name}' deve ser um texto")
    value = value.strip()
    if not value:
        raise BadRequest(f"Campo '{name}' não pode ser vazio")
    if len(value) > max_len:
        raise BadRequest(f"Campo '{name}' excede {max_len} caracteres")
    if any(_is_control(ch) for ch in value):
        # NUL, CR/LF (forged log lines and CSV rows), ESC (terminal escapes), bidi overrides.
        raise BadRequest(f"Campo '{name}' contém caracteres de controle")
    return value


def _is_control(ch: str) -> bool:
    return unicodedata.category(ch) == "Cc" or ch in BIDI_CONTROLS


def parse_cliente(body: Mapping[str, Any]) -> NewCliente:
    _check_fields(body, ("email", "razao_social", "telefone"))
    email = _text(body, "email", max_len=254).lower()
    if not EMAIL_RE.match(email):
        raise BadRequest("Campo 'email' não é um endereço de e-mail válido")
    razao_social = _text(body, "razao_social", max_len=200)
    telefone_raw = _text(body, "telefone", max_len=30)
    telefone = re.sub(r"[\s().+-]", "", telefone_raw)
    if not TELEFONE_RE.fullmatch(telefone):
        raise BadRequest("Campo 'telefone' deve ter de 10 a 13 dígitos (DDD + número)")
    return NewCliente(email=email, razao_social=razao_social, telefone=telefone)


def parse_balcao(body: Mapping[str, Any]) -> NewBalcao:
    _check_fields(body, ("nome_balcao", "user_codigo"))
    nome = _text(body, "nome_balcao", max_len=120)
    codigo = body["user_codigo"]
    if not isinstance(codigo, str) or not CODIGO_RE.fullmatch(codigo.strip()):
        raise BadRequest(f"{INVALID_CODE}: 'user_codigo' deve ser um texto de 6 dígitos")
    return NewBalcao(nome_balcao=nome, user_codigo=codigo.strip())
