"""The NCM table as OCA l10n-br publishes it (``l10n_br_fiscal.ncm.csv``), read into the same
``digits -> own Portuguese description`` mapping as :func:`read_ncm_json`, so that
:func:`attach_ncm` takes either.

The CSV has one row per 8-digit code (``"id","code","exception","name",...,"active"``) and no
rows for the levels above it: ``name`` is the whole path, flattened. The HS levels keep their
dash markers, the NCM levels (7th and 8th digits) are only appended with a space::

    Rolamentos de esferas, de roletes ou de agulhas. - Partes: -- Outras Selos, capas e ...
    heading (8482) ------------------------------  5 (84829)  6 (848299) 8 (84829910) ---

So the levels are taken back apart:

* heading: the text before the first ``- `` marker (the same in every row of the heading;
  some rows of the source start at the marker, and their heading gets no text). Without any
  marker in the heading (``0903.00.10``, "Mate. Simplesmente cancheado"), the words its rows
  share.
* ``- A: -- B``: A is the one-dash group (5 digits), B starts the subheading (6 digits); with
  one dash only, the text after it starts the subheading.
* subheading, then 7-digit item, then 8-digit subitem: the words all rows of the group share,
  ending where every row's next word starts with a capital letter (the NCM levels start with
  one, "De carga radial", "Outros"), so that a shared "De potência" of two items is not taken
  for the end of the subheading. A group of one row keeps the whole text at its upper level.

Rows that are inactive (``active`` not true), the Ex-tarifário variants (``exception`` set: the
same code again) and the placeholder ``0000.00.00`` are skipped.
"""

from __future__ import annotations

import csv
import re
from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from pathlib import Path

from balto.core.errors import ServerFault
from balto.partnumber.classify.nomenclature import clean_description, read_ncm_json

__all__ = ["NcmTableError", "read_ncm_csv", "read_ncm_table"]

REQUIRED = ("code", "name")
_ONE_DASH = re.compile(r"(?:^|\s)-\s")
_TWO_DASHES = re.compile(r"\s--\s")


class NcmTableError(ServerFault):
    """The NCM table file cannot be read (missing, unknown format, malformed row)."""


def read_ncm_table(path: Path) -> dict[str, str]:
    """The table of ``path`` by its suffix: ``.csv`` (OCA l10n-br) or ``.json`` (official)."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return read_ncm_csv(path)
    if suffix == ".json":
        return read_ncm_json(path)
    raise NcmTableError(f"Tabela NCM {path}: formato desconhecido (use .csv ou .json)")


def read_ncm_csv(path: Path) -> dict[str, str]:
    """Digits -> cleaned Portuguese description, for headings (4), one-dash groups (5),
    subheadings (6), items (7) and subitems (8), as :func:`read_ncm_json` gives them."""
    rows = dict(_rows(path))
    if not rows:
        raise NcmTableError(f"Tabela NCM {path}: nenhum código de 8 dígitos ativo")
    table: dict[str, str] = {}
    by_heading: dict[str, list[str]] = defaultdict(list)
    for code in sorted(rows):
        by_heading[code[:4]].append(code)
    for heading, codes in by_heading.items():
        tails = _split_heading(heading, [rows[c] for c in codes], table)
        _split_levels(dict(zip(codes, tails, strict=True)), table)
    cleaned = {code: clean_description(text) for code, text in table.items()}
    return {code: text for code, text in cleaned.items() if text or len(code) == 8}


def _rows(path: Path) -> Iterator[tuple[str, str]]:
    """(8 digits, flattened name) of every active, non-Ex row; errors name the line."""
    try:
        handle = path.open(encoding="utf-8-sig", newline="")
    except OSError as exc:
        raise NcmTableError(f"Não foi possível ler a tabela NCM {path}: {exc.strerror}") from exc
    with handle:
        reader = csv.reader(handle, strict=True)
        try:
            header = next(reader, None)
            if header is None:
                raise NcmTableError(f"Tabela NCM {path}: arquivo vazio")
            columns = {name.strip(): i for i, name in enumerate(header)}
            missing = [name for name in REQUIRED if name not in columns]
            if missing:
                raise NcmTableError(
                    f"Tabela NCM {path}, linha 1: faltam as colunas {', '.join(missing)}"
                )
            seen: set[str] = set()
            for line, fields in _numbered(reader):
                if not any(field.strip() for field in fields):
                    continue
                if len(fields) != len(header):
                    raise NcmTableError(
                        f"Tabela NCM {path}, linha {line}: {len(fields)} campos, "
                        f"o cabeçalho tem {len(header)}"
                    )
                row = {name: fields[i] for name, i in columns.items()}
                digits = re.sub(r"[.\s]", "", row["code"])
                if len(digits) != 8 or not digits.isdigit():
                    raise NcmTableError(
                        f"Tabela NCM {path}, linha {line}: código inválido {row['code']!r} "
                        "(esperado NNNN.NN.NN)"
                    )
                if (
                    digits == "00000000"
                    or row.get("exception", "").strip()
                    or row.get("active", "True").strip().lower() not in ("true", "1", "")
                ):
                    continue
                if digits in seen:
                    raise NcmTableError(
                        f"Tabela NCM {path}, linha {line}: código {row['code']} repetido"
                    )
                seen.add(digits)
                yield digits, " ".join(row["name"].split())
        except csv.Error as exc:
            raise NcmTableError(f"Tabela NCM {path}, linha {reader.line_num}: {exc}") from exc
        except UnicodeDecodeError as exc:
            raise NcmTableError(f"Tabela NCM {path}: não está em UTF-8 ({exc.reason})") from exc


def _numbered(reader: Iterator[list[str]]) -> Iterator[tuple[int, list[str]]]:
    """Each record with the line it starts on (a quoted field may span lines)."""
    start = 2
    for fields in reader:
        yield start, fields
        start = reader.line_num + 1  # type: ignore[attr-defined]


def _split_heading(heading: str, names: list[str], table: dict[str, str]) -> list[str]:
    """Record the heading's text in ``table``; return, for each row (same order as
    ``names``), the text after the heading."""
    matches = [_ONE_DASH.search(name) for name in names]
    before = Counter(name[: m.start()].strip() for name, m in zip(names, matches, strict=True) if m)
    if before:
        table[heading] = before.most_common(1)[0][0]
    else:
        table[heading] = _shared(names) if len(names) > 1 else names[0]
    tails = []
    for name, match in zip(names, matches, strict=True):
        if match is None:
            rest = name[len(table[heading]) :] if name.startswith(table[heading]) else name
            tails.append(rest.strip())
        else:
            tails.append(name[match.end() :].strip())
    return tails


def _split_levels(tails: dict[str, str], table: dict[str, str]) -> None:
    """One-dash group (5), subheading (6), item (7) and subitem (8) texts of one heading's
    rows (``tails``: 8 digits -> the text after the heading)."""
    rest: dict[str, str] = {}
    for code, tail in tails.items():
        two = _TWO_DASHES.search(tail)
        if two is not None:
            table.setdefault(code[:5], tail[: two.start()])
            tail = tail[two.end() :]
        rest[code] = tail.strip()
    for size in (6, 7):
        groups: dict[str, list[str]] = defaultdict(list)
        for code in rest:
            groups[code[:size]].append(code)
        for prefix, codes in groups.items():
            if len(codes) == 1:
                if size == 7:
                    continue  # one row: no 7-digit level, the text is the subitem's
                own = rest[codes[0]]  # one row: the whole text is the subheading's
            else:
                own = _shared([rest[c] for c in codes])
            if own:
                table[prefix] = own
                for c in codes:
                    rest[c] = rest[c][len(own) :].strip()
    table.update(rest)


def _shared(texts: Sequence[str]) -> str:
    """The words every text starts with, ending where every text's next word (if any)
    starts with a capital letter or a digit; "" if there is no such place."""
    split = [text.split() for text in texts]
    common = 0
    for words in zip(*split, strict=False):
        if any(w != words[0] for w in words):
            break
        common += 1
    for end in range(common, 0, -1):
        if all(len(words) == end or _starts_level(words[end]) for words in split):
            return " ".join(split[0][:end])
    return ""


def _starts_level(word: str) -> bool:
    first = word.lstrip("(\"'")[:1]
    return first.isupper() or first.isdigit()
