"""Reading rule sets: the JSON format, strict validation and the shipped default set.

Format (``versao`` 2)::

    {"versao": 2,
     "regras": [{"id": "febre", "tipo": "sugerir", "categoria": "febre",
                 "gatilhos": ["febre", "febrinha"], "mensagem": "Sugerir Paracetamol",
                 "produto": "Paracetamol", "mip": true, "exclusoes": ["febre amarela"]},
                {"id": "alerta_dor_peito", "tipo": "encaminhar", "categoria": "alerta",
                 "gatilhos": ["dor no peito"],
                 "mensagem": "Encaminhar ao farmacêutico: dor no peito"}]}

A suggestion may add ``"variantes": [{"id": "curta", "mensagem": "Ofereça Dorflex"}, ...]``,
other wordings of its ``mensagem`` drawn at random per recommendation (``rules.Variant``).

``id``, ``categoria``, ``gatilhos`` and ``mensagem`` are required; ``tipo`` defaults to
"sugerir", which needs ``produto`` and ``"mip": true`` (over-the-counter medicines only);
"encaminhar" refuses both (``rules._check_kind``). ``exclusoes`` is optional; unknown fields
are refused.

``versao`` 1 (sets written before the safety policy) is still read: ``tipo`` and ``mip`` do
not exist there, every rule is a suggestion with a required ``produto``, taken as the chain's
declaration that it is an MIP. Sets are written back as version 2.
Problems raise ``InvalidRules`` (a ``BadRequest``) with a Portuguese message that names them.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from importlib import resources
from typing import Any

from balto.counter.detect.rules import (
    FORMAT_VERSION,
    LEGACY_FORMAT_VERSION,
    SUGGEST,
    InvalidRules,
    Rule,
    RuleSet,
    Variant,
)

DEFAULT_RULES_FILE = "rules_pt_br.json"
_REQUIRED = ("id", "categoria", "gatilhos", "mensagem")
_OPTIONAL = ("tipo", "produto", "mip", "exclusoes", "variantes")
_VARIANT_FIELDS = ("id", "mensagem")
_LEGACY_REQUIRED = ("id", "categoria", "gatilhos", "mensagem", "produto")
_LEGACY_OPTIONAL = ("exclusoes",)


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
    if type(version) is not int or version not in (FORMAT_VERSION, LEGACY_FORMAT_VERSION):
        raise InvalidRules(f"versao {version!r} não suportada (use {FORMAT_VERSION})")
    raw_rules = parsed["regras"]
    if not isinstance(raw_rules, list):
        raise InvalidRules("'regras' deve ser uma lista")
    legacy = version == LEGACY_FORMAT_VERSION
    return RuleSet(tuple(_rule(i, raw, legacy=legacy) for i, raw in enumerate(raw_rules)))


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


def _rule(index: int, raw: object, *, legacy: bool) -> Rule:
    where = f"regras[{index}]"
    if not isinstance(raw, Mapping):
        raise InvalidRules(f"{where}: cada regra deve ser um objeto JSON")
    rule_id = raw.get("id")
    if isinstance(rule_id, str):
        where = f"regra {rule_id!r} ({where})"
    if legacy:
        _check_fields(raw, required=_LEGACY_REQUIRED, optional=_LEGACY_OPTIONAL, where=where)
    else:
        _check_fields(raw, required=_REQUIRED, optional=_OPTIONAL, where=where)
    texts = {
        name: _text(raw.get(name, ""), f"{where}: {name}")
        for name in ("id", "categoria", "mensagem", "produto")
    }
    mip = True if legacy else raw.get("mip", False)
    if type(mip) is not bool:
        raise InvalidRules(f"{where}: mip deve ser true ou false")
    return Rule(
        id=texts["id"],
        categoria=texts["categoria"],
        gatilhos=_phrases(raw["gatilhos"], f"{where}: gatilhos"),
        mensagem=texts["mensagem"],
        produto=texts["produto"],
        exclusoes=_phrases(raw.get("exclusoes", []), f"{where}: exclusoes"),
        tipo=_text(raw.get("tipo", SUGGEST), f"{where}: tipo"),
        mip=mip,
        variantes=_variants(raw["variantes"], where) if "variantes" in raw else (),
    )


def _variants(value: object, where: str) -> tuple[Variant, ...]:
    """The ``variantes`` list; present, it names at least one (else leave the field out)."""
    where = f"{where}: variantes"
    if not isinstance(value, list):
        raise InvalidRules(f"{where} deve ser uma lista de objetos com 'id' e 'mensagem'")
    if not value:
        raise InvalidRules(f"{where} está vazia (sem experimento, tire o campo)")
    result: list[Variant] = []
    for n, item in enumerate(value):
        if not isinstance(item, Mapping):
            raise InvalidRules(f"{where}[{n}] deve ser um objeto com 'id' e 'mensagem'")
        _check_fields(item, required=_VARIANT_FIELDS, optional=(), where=f"{where}[{n}]")
        texts = [_text(item[name], f"{where}[{n}]: {name}") for name in _VARIANT_FIELDS]
        result.append(Variant(*texts))
    return tuple(result)


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
