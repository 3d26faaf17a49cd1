"""Checks on incoming requests; failures are ``BadRequest`` with a Portuguese message."""

from __future__ import annotations

from balto.core.errors import BadRequest
from balto.partnumber.classify.models import ClassifyRequest
from balto.partnumber.classify.text import normalize_partnumber

MAX_PARTNUMBER = 100
MAX_DESCRIPTION = 2000
MAX_NAME = 200


def _optional(value: object, field: str, limit: int) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise BadRequest(f"O campo '{field}' deve ser texto")
    value = " ".join(value.split())
    if len(value) > limit:
        raise BadRequest(f"O campo '{field}' excede {limit} caracteres")
    return value


def clean_request(request: ClassifyRequest) -> ClassifyRequest:
    """Whitespace-normalised copy of ``request``; raises ``BadRequest`` when it is unusable."""
    if not isinstance(request, ClassifyRequest):
        raise BadRequest("Requisição de classificação inválida")
    partnumber = _optional(request.partnumber, "partnumber", MAX_PARTNUMBER)
    if not partnumber:
        raise BadRequest("Informe o partnumber do item")
    if not normalize_partnumber(partnumber):
        raise BadRequest("Partnumber inválido: deve conter letras ou números")
    return ClassifyRequest(
        partnumber=partnumber,
        description=_optional(request.description, "descricao", MAX_DESCRIPTION) or None,
        manufacturer=_optional(request.manufacturer, "fabricante", MAX_NAME) or None,
        supplier=_optional(request.supplier, "fornecedor", MAX_NAME) or None,
    )
