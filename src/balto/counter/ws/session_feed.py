"""What one counter's session tells its chain's live feeds (``GET /api/ao-vivo``): a
recommendation sent, a feedback recorded; here and, with Redis, on the other instances.

Publishing never waits, and a bug in it costs the event, not the session (its own crash
boundary).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from balto.core.isolation import Boundary
from balto.counter.admin import feed
from balto.counter.admin.feed import FeedHub
from balto.counter.coord.bus import Coordinator
from balto.counter.detect import Opportunity
from balto.counter.store import Balcao


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


class SessionFeed:
    def __init__(
        self, balcao: Balcao, hub: FeedHub, coord: Coordinator | None, boundary: Boundary
    ) -> None:
        self.balcao = balcao
        self.hub = hub
        self.coord = coord
        self.boundary = boundary

    def recommended(self, opportunity: Opportunity, interacao_id: str) -> None:
        self._publish(
            feed.RECOMMENDATION,
            feed.recommendation_data(
                balcao_id=self.balcao.id,
                nome_balcao=self.balcao.nome_balcao,
                regra=opportunity.rule_id,
                tipo=opportunity.tipo,
                mensagem=opportunity.mensagem,
                produto=opportunity.produto,
                id_interacao=interacao_id,
                em=now_iso(),
            ),
        )

    def answered(self, interacao_id: str, result: str) -> None:
        self._publish(
            feed.FEEDBACK,
            feed.feedback_data(
                balcao_id=self.balcao.id,
                nome_balcao=self.balcao.nome_balcao,
                id_interacao=interacao_id,
                resultado=result,
                em=now_iso(),
            ),
        )

    def _publish(self, kind: str, data: Mapping[str, Any]) -> None:
        with self.boundary.guard("ao_vivo_publish", str(self.balcao.id)):
            self.hub.publish(self.balcao.cliente_id, kind, data)
            if self.coord is not None:
                self.coord.publish_feed(self.balcao.cliente_id, kind, dict(data))
