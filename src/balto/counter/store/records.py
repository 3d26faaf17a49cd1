"""What the store hands out: plain frozen records, the same whichever backend holds them."""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True, slots=True)
class Balcao:
    """An authenticated counter, as a WebSocket session needs it."""

    id: int
    nome_balcao: str
    cliente_id: int
    codigo: str
    idioma: str
    regras: str | None
    regras_revisao: int = 0  # the chain's rules version ``regras`` is (0: never changed)
    chave_hash: str = ""  # the stored hash of the key it authenticated with (``ws.live``)


@dataclasses.dataclass(frozen=True, slots=True)
class NewClienteKeys:
    """What a registration shows once: the enrolment code and the management key."""

    codigo: str
    chave_admin: str


@dataclasses.dataclass(frozen=True, slots=True)
class Cliente:
    """A chain, as the management API knows it once its key is checked."""

    id: int
    codigo: str
    razao_social: str


@dataclasses.dataclass(frozen=True, slots=True)
class CounterRecord:
    """A counter as its chain's managers see it (timestamps: UTC ISO 8601, or None)."""

    id: int
    nome_balcao: str
    criado_em: str
    visto_em: str | None
    revogado_em: str | None


@dataclasses.dataclass(frozen=True, slots=True)
class RotatedKey:
    """A counter's key replaced: the new api_key (shown once), the counter, and the hash of
    the retired key (what its open sessions registered under, ``ws.live``)."""

    api_key: str
    record: CounterRecord
    chave_antiga_hash: str


#: One interaction for the reports: (balcao_id, nome_balcao, regra, produto, criado_em,
#: resultado); ``resultado`` is None while the counter has not answered.
ReportRow = tuple[int, str, str, str | None, str, str | None]


#: One interaction of a wording experiment: (regra, variante, mensagem, resultado), oldest
#: first; ``mensagem`` is the text the counter showed, ``resultado`` None while unanswered.
ExperimentRow = tuple[str, str, str, str | None]
