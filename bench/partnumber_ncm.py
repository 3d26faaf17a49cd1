"""The ``--ncm`` option of the partnumber benches: the table the service would use.

Default: the table ``balto partnumber ncm install`` put in the cache (``BALTO_CACHE_DIR``), as
``balto partnumber serve`` does; ``--ncm nenhuma``: none; ``--ncm ARQUIVO``: that CSV or JSON.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from balto.partnumber.config import NO_NCM_TABLE, PartnumberConfig, resolve_ncm_table


def add_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--ncm",
        default=None,
        metavar="TABELA",
        help="tabela NCM em português (CSV ou JSON); padrão: a instalada por "
        f"'balto partnumber ncm install', como no serviço; '{NO_NCM_TABLE}': sem tabela",
    )


def resolve(value: str | None) -> Path | None:
    """The table for ``--ncm value`` (announced on stdout, so that the figures say it)."""
    table = resolve_ncm_table(PartnumberConfig.from_env(ncm_table=Path(value) if value else None))
    print(f"tabela NCM: {table if table is not None else NO_NCM_TABLE}")
    return table
