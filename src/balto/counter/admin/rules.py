"""The rules API without I/O: what a request carries (``If-Match``, a version number, the
dry-run body) and what the answers say (the current set with its version, the history,
what would fire).

The rule set itself travels in exactly the format of ``balto regras`` (``detect.loader``):
``PUT /api/regras`` takes the file ``balto regras definir`` reads, and ``conjunto`` in the
answers is what ``balto regras padrao`` writes.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Mapping
from typing import Any, Protocol

from balto.core.errors import BadRequest, NotFound
from balto.counter.detect import Opportunity, RuleSet, default_rules, load_rules

#: ``autor`` of the versions written through the API: the chain's key is the only identity
#: there is (no user accounts yet).
API_AUTHOR = "chave_admin"
VERSION_NOT_FOUND = "Versão de regras não encontrada"
MAX_DRY_RUN_CHARS = 2000
DRY_RUN_FIELDS = ("texto", "regras")
ETAG_RE = re.compile(r'"([0-9]{1,18})"')
VERSION_RE = re.compile(r"[0-9]{1,18}")


class RulesVersion(Protocol):
    """A version as the store hands it over (``store.RulesVersion``)."""

    @property
    def numero(self) -> int: ...
    @property
    def regras(self) -> str | None: ...
    @property
    def criado_em(self) -> str | None: ...
    @property
    def autor(self) -> str | None: ...


class RulesVersionSummary(Protocol):
    """A version in the history (``store.RulesVersionSummary``)."""

    @property
    def numero(self) -> int: ...
    @property
    def criado_em(self) -> str: ...
    @property
    def autor(self) -> str: ...
    @property
    def quantidade_regras(self) -> int | None: ...


@dataclasses.dataclass(frozen=True, slots=True)
class DryRun:
    texto: str
    regras: RuleSet | None  # None: the chain's current rules


def etag(revision: int) -> str:
    return f'"{revision}"'


def expected_revision(if_match: str | None) -> int | None:
    """The version an ``If-Match`` header names (the ``ETag`` of ``GET /api/regras``);
    None without one (or ``*``): replace whatever is there."""
    if if_match is None or if_match.strip() == "*":
        return None
    found = ETAG_RE.fullmatch(if_match.strip())
    if found is None:
        raise BadRequest('If-Match deve ser a ETag de GET /api/regras, como "3"')
    return int(found.group(1))


def version_number(text: str) -> int:
    """A version number from the path; anything that cannot be one is simply not found."""
    if not VERSION_RE.fullmatch(text):
        raise NotFound(VERSION_NOT_FOUND)
    return int(text)


def parse_dry_run(body: Mapping[str, Any]) -> DryRun:
    """``{"texto": "...", "regras": <rule set, optional>}``; the rule set is validated
    exactly as ``PUT /api/regras`` and ``balto regras definir`` do."""
    unknown = sorted(set(body) - set(DRY_RUN_FIELDS))
    if unknown:
        raise BadRequest(f"Campo(s) desconhecido(s): {', '.join(unknown)}")
    texto = body.get("texto")
    if not isinstance(texto, str) or not texto.strip():
        raise BadRequest("Campo 'texto' obrigatório: a frase a testar")
    if len(texto) > MAX_DRY_RUN_CHARS:
        raise BadRequest(f"Campo 'texto' passa de {MAX_DRY_RUN_CHARS} caracteres")
    raw = body.get("regras")
    if raw is None:
        return DryRun(texto, None)
    if not isinstance(raw, Mapping):
        raise BadRequest("Campo 'regras' deve ser um conjunto de regras (objeto JSON)")
    return DryRun(texto, load_rules(raw))


def version_wire(version: RulesVersion) -> dict[str, Any]:
    return {
        "revisao": version.numero,
        "padrao": version.regras is None,
        "criado_em": version.criado_em,
        "autor": version.autor,
    }


def rule_set_of(version: RulesVersion) -> dict[str, Any]:
    """The version's rules in the file format (the default's when it has none of its own).
    Only our own ``RuleSet.to_json`` is ever stored, so it is read back as it is."""
    if version.regras is None:
        return default_rules().to_data()
    data: dict[str, Any] = json.loads(version.regras)
    return data


def current_wire(version: RulesVersion) -> dict[str, Any]:
    return version_wire(version) | {"conjunto": rule_set_of(version)}


def summary_wire(summary: RulesVersionSummary) -> dict[str, Any]:
    return {
        "revisao": summary.numero,
        "padrao": summary.quantidade_regras is None,
        "criado_em": summary.criado_em,
        "autor": summary.autor,
        "quantidade_regras": summary.quantidade_regras,
    }


def dry_run_wire(revision: int | None, found: list[Opportunity]) -> dict[str, Any]:
    """What would fire, in rule-set order, ignoring any cooldown; ``revisao`` is the chain's
    version tested, None for a rule set sent with the request."""
    return {
        "revisao": revision,
        "recomendacoes": [
            {
                "regra": o.rule_id,
                "tipo": o.tipo,
                "categoria": o.categoria,
                "mensagem": o.mensagem,
                "produto": o.produto,
                "gatilho": o.gatilho,
            }
            for o in found
        ],
    }
