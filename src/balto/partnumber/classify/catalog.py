"""Catalog of known items: partnumber (+ manufacturer) -> code, imported from CSV."""

from __future__ import annotations

import csv
import io
import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

from balto.core.errors import BadRequest
from balto.partnumber.classify.text import normalize_manufacturer, normalize_partnumber

_ALIASES = {
    "partnumber": ("partnumber", "part_number", "pn", "codigo_item"),
    "manufacturer": ("manufacturer", "fabricante", "marca"),
    "code": ("code", "codigo", "ncm", "sh", "hs"),
    "description": ("description", "descricao", "descrição"),
}


@dataclass(frozen=True, slots=True)
class CatalogItem:
    partnumber: str
    manufacturer: str
    code: str  # digits only: 6 (HS) or 8 (NCM)
    description: str = ""


@dataclass(frozen=True, slots=True)
class CatalogHit:
    item: CatalogItem
    exact: bool  # partnumber and manufacturer both match (or the item has no manufacturer)


class Catalog:
    def __init__(self, items: list[CatalogItem]) -> None:
        self._by_pn: dict[str, list[CatalogItem]] = defaultdict(list)
        self._chapters: dict[str, Counter[str]] = defaultdict(Counter)
        for item in items:
            self._by_pn[normalize_partnumber(item.partnumber)].append(item)
            if item.manufacturer:
                self._chapters[normalize_manufacturer(item.manufacturer)][item.code[:2]] += 1
        self._size = len(items)

    def __len__(self) -> int:
        return self._size

    @classmethod
    def load_csv(cls, path: Path) -> Catalog:
        try:
            raw = path.read_text(encoding="utf-8-sig")
        except OSError as exc:
            raise BadRequest(f"Não foi possível ler o catálogo {path}: {exc.strerror}") from exc
        return cls.parse_csv(raw)

    @classmethod
    def parse_csv(cls, raw: str) -> Catalog:
        first = raw.split("\n", 1)[0]
        delimiter = ";" if first.count(";") > first.count(",") else ","
        reader = csv.DictReader(io.StringIO(raw), delimiter=delimiter)
        columns = {name.strip().lower(): name for name in reader.fieldnames or ()}
        found: dict[str, str] = {}
        for key, aliases in _ALIASES.items():
            for alias in aliases:
                if alias in columns:
                    found[key] = columns[alias]
                    break
        missing = [k for k in ("partnumber", "code") if k not in found]
        if missing:
            raise BadRequest(f"Catálogo sem as colunas obrigatórias: {', '.join(missing)}")
        items = []
        for line, row in enumerate(reader, start=2):
            pn = (row.get(found["partnumber"]) or "").strip()
            code = re.sub(r"\D", "", row.get(found["code"]) or "")
            if not pn and not code:
                continue
            if not normalize_partnumber(pn):
                raise BadRequest(f"Catálogo, linha {line}: partnumber vazio")
            if len(code) not in (6, 8):
                raise BadRequest(f"Catálogo, linha {line}: código {code!r} deve ter 6 ou 8 dígitos")
            mfr = (row.get(found.get("manufacturer", ""), "") or "").strip()
            desc = (row.get(found.get("description", ""), "") or "").strip()
            items.append(CatalogItem(pn, mfr, code, desc))
        return cls(items)

    def lookup(self, partnumber: str, manufacturer: str | None) -> CatalogHit | None:
        """Exact partnumber match; the manufacturer disambiguates when several share it."""
        items = self._by_pn.get(normalize_partnumber(partnumber), [])
        if not items:
            return None
        wanted = normalize_manufacturer(manufacturer)
        for item in items:
            if wanted and normalize_manufacturer(item.manufacturer) == wanted:
                return CatalogHit(item, exact=True)
        codes = {item.code for item in items}
        if len(codes) == 1 and (not wanted or not items[0].manufacturer):
            return CatalogHit(items[0], exact=True)
        top_code = Counter(item.code for item in items).most_common(1)[0][0]
        return CatalogHit(next(i for i in items if i.code == top_code), exact=False)

    def chapter_prior(self, manufacturer: str | None) -> dict[str, float]:
        """Share of each HS chapter among this manufacturer's catalogued items."""
        counts = self._chapters.get(normalize_manufacturer(manufacturer))
        if not counts:
            return {}
        total = sum(counts.values())
        return {chapter: n / total for chapter, n in counts.items()}
