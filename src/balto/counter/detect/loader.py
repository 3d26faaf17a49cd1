"""Reading rule sets: the JSON format, strict validation and the shipped default set.

Format (``versao`` 1)::

    {"versao": 1,
     "regras": [{"id": "febre", "categoria": "febre",
                 "gatilhos": ["febre", "febrinha"], "mensagem": "Sugerir Paracetamol",
                 "produto": "Paracetamol", "exclusoes": ["febre amarela"]}]}

``exclusoes`` is optional; every other field is required and unknown fields are refused.
Problems raise ``InvalidRules`` (a ``BadRequest``) with a Portuguese message that names them.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from importlib import resources
from typing import Any

from balto.counter.detect.rules import FORMAT_VERSION, InvalidRules, Rule, RuleSet

DEFAULT_RULES_FILE = "rules_pt_br.json"
_REQUIRED = ("id", "categoria", "gatilhos", "mensagem", "produto")
_OPTIONAL = ("exclusoes",)


def load_rules(data: str | bytes | Mapping[str, Any]) -> RuleSet:
    """Validate a rule set given as JSON text, UTF-8 bytes or an already parsed mapping."""
    if isinstance(data, bytes | bytearray):
        try:
            data = bytes(data).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InvalidRules("o JSON de regras não está em UTF-8 válido") from exc
    parsed: object = _parse(data) if isinstance(data, str) else data
    if not isinstance(parsed, Mapping):
        raise InvalidRules("o conjunto de regras deve ser um objeto JSON com 'versao' e 'regras'")
    _check_fields(parsed, required=("versao", "regras"), optional=(), where="conjunto")
    version = parsed["versao"]
    if type(version) is not int or version != FORMAT_VERSION:
        raise InvalidRules(f"versao {version!r} não suportada (use {FORMAT_VERSION})")
    raw_rules = parsed["regras"]
    if not isinstance(raw_rules, list):
        raise InvalidRules("'regras' deve ser uma lista")
    return RuleSet(tuple(_rule(i, raw) for i, raw in enumerate(raw_rules)))


@functools.cache
def default_rules() -> RuleSet:
    """The rule set shipped with Balto for Brazilian pharmacies (shared, immutable)."""
    text = resources.files("balto.counter.detect").joinpath(DEFAULT_RULES_FILE).read_bytes()
    return load_rules(text)


def _parse(text: str) -> object:
    try:
        return json.loads(text, object_pairs_hook=_no_duplicate_keys)
    except json.JSONDecodeError as exc:
        raise InvalidRules(
            f"JSON de regras inválido na linha {exc.lineno}, coluna {exc.colno}"
        ) from exc


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise InvalidRules(f"campo {key!r} repetido no JSON de regras")
        result[key] = value
    return result


def _check_fields(
    obj: Mapping[Any, Any], *, required: tuple[str, ...], optional: tuple[str, ...], where: str
) -> None:
    unknown = sorted(str(k) for k in obj if k not in required and k not in optional)
    if unknown:
        raise InvalidRules(f"{where}: campo desconhecido {', '.join(map(repr, unknown))}")
    missing = [k for k in required if k not in obj]
    if missing:
        raise InvalidRules(f"{where}: falta o campo {', '.join(map(repr, missing))}")


def _rule(index: int, raw: object) -> Rule:
    where = f"regras[{index}]"
    if not isinstance(raw, Mapping):
        raise InvalidRules(f"{where}: cada regra deve ser um objeto JSON")
    rule_id = raw.get("id")
    if isinstance(rule_id, str):
        where = f"regra {rule_id!r} ({where})"
    _check_fields(raw, required=_REQUIRED, optional=_OPTIONAL, where=where)
    texts = {name: _text(raw[name], f"{where}: {name}") for name in _REQUIRED if name != "gatilhos"}
    return Rule(
        id=texts["id"],
        categoria=texts["categoria"],
        gatilhos=_phrases(raw["gatilhos"], f"{where}: gatilhos"),
        mensagem=texts["mensagem"],
        produto=texts["produto"],
        exclusoes=_phrases(raw.get("exclusoes", []), f"{where}: exclusoes"),
    )


def _text(value: object, where: str) -> str:
    if not isinstance(value, str):
        raise InvalidRules(f"{where} deve ser um texto")
    return value


def _phrases(value: object, where: str) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise InvalidRules(f"{where} deve ser uma lista de textos")
    for n, item in enumerate(value):
        if not isinstance(item, str):
            raise InvalidRules(f"{where}[{n}] deve ser um texto")
    return tuple(value)
