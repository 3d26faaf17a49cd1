"""A chain's own data through the API (LGPD): the export's envelope and the deletion's
confirmation. No I/O."""

from __future__ import annotations

from typing import Any

from balto.core.errors import BadRequest

CONFIRM_FIELD = "confirmar"
CONFIRM_MISSING = (
    'Para apagar todos os dados da rede, envie {"confirmar": "<código da rede>"} '
    "(o código de 6 dígitos do cadastro)"
)
CONFIRM_WRONG = "Confirmação inválida: confirmar deve ser o código de 6 dígitos da rede"


def check_confirmation(body: dict[str, Any], codigo: str) -> None:
    """The deletion goes ahead only with exactly ``{"confirmar": "<the chain's codigo>"}``."""
    if set(body) != {CONFIRM_FIELD}:
        raise BadRequest(CONFIRM_MISSING)
    if body[CONFIRM_FIELD] != codigo:
        raise BadRequest(CONFIRM_WRONG)


def export_wire(data: dict[str, Any], exported_at: str) -> dict[str, Any]:
    """The export as it goes out: when it was made, then the store's sections."""
    return {"exportado_em": exported_at, **data}


def export_filename(codigo: str, day: str) -> str:
    return f"balto-dados-{codigo}-{day}.json"


def deleted_wire(
    *, balcoes: int, interacoes: int, regras_versoes: int, sessoes: int, closed: int
) -> dict[str, Any]:
    return {
        "apagado": {
            "balcoes": balcoes,
            "interacoes": interacoes,
            "regras_versoes": regras_versoes,
            "sessoes": sessoes,
        },
        "sessoes_encerradas": closed,
    }
