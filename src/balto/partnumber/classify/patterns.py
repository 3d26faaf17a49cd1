"""Classification from the part number alone: designations whose form names the product
(rolling-bearing series, DIN/ISO fastener standards). Pure; a table of rules, first match wins.

Confidence here is a rule's, not the calibrated model's: bearing series are unambiguous for the
heading (8482); a fastener standard names the product but not its metal (steel assumed, 7318),
so its rules stay below the "confident" 0.8.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["PatternHit", "match_partnumber"]


@dataclass(frozen=True, slots=True)
class PatternHit:
    code: str  # formatted HS subheading, e.g. "8482.10"
    confidence: float
    reason: str  # Portuguese: what was recognised


_SUFFIX = r"(?:[-/ ]?(?:2RS\w*|2Z\w*|ZZ|RS\w*|Z|LLU|DDU|NR|C[2-5]|P[56]|E|J2|Q|TN9|M|CC|CA|W33))*"
_BOLTS = "parafusos (exceto para madeira), de ferro ou aço; material presumido: aço"
_RULES: tuple[tuple[re.Pattern[str], str, float, str], ...] = tuple(
    (re.compile(pattern, re.IGNORECASE), code, confidence, reason)
    for pattern, code, confidence, reason in (
        # Rolling bearings (ISO 15 designations as the big makers print them).
        (
            rf"^(?:6[0-4]\d{{2,3}}|16\d{{3}}|6[0-9]{{3}}|60[0-9]|62[0-9]|63[0-9]|618\d\d|619\d\d"
            rf"|12\d{{2}}|13\d{{2}}|22\d{{2}}|23\d{{2}}(?!\d)|7[23]\d{{2}}[A-Z]*){_SUFFIX}$",
            "8482.10",
            0.9,
            "série de rolamento de esferas (ex.: 6204-2RS)",
        ),
        (
            rf"^(?:3[023]\d{{3}}|320\d\d|LM\d{{5,6}}){_SUFFIX}$",
            "8482.20",
            0.9,
            "série de rolamento de rolos cônicos (ex.: 30205)",
        ),
        (
            rf"^2[23][2-3]\d{{2}}(?:E|CC|CA|K)*{_SUFFIX}$",
            "8482.30",
            0.9,
            "série de rolamento autocompensador de rolos (ex.: 22310E)",
        ),
        (
            r"^(?:NA|NK|HK|RNA|BK)\d{3,5}\w*$",
            "8482.40",
            0.9,
            "série de rolamento de agulhas (ex.: HK2016)",
        ),
        (
            rf"^N[UJFP]?\d{{3,4}}(?:E|ECP|ECJ)*{_SUFFIX}$",
            "8482.50",
            0.9,
            "série de rolamento de rolos cilíndricos (ex.: NU206)",
        ),
        # Fasteners by standard (DIN / ISO designation in the part number).
        (
            r"\b(?:DIN ?(?:93[13]|912|7984|7991|6912|960|961|603|571)|ISO ?(?:401[1478]|4762|"
            r"8765|8676|10642|7380))\b",
            "7318.15",
            0.7,
            "norma de parafuso: " + _BOLTS,
        ),
        (
            r"\b(?:DIN ?(?:934|985|936|439|1587|6923)|ISO ?(?:4032|4035|7040|10511|4161))\b",
            "7318.16",
            0.7,
            "norma de porca de ferro ou aço (material presumido: aço)",
        ),
        (
            r"\b(?:DIN ?127|DIN ?128|DIN ?6798|DIN ?137)\b",
            "7318.21",
            0.7,
            "norma de arruela de pressão/mola (material presumido: aço)",
        ),
        (
            r"\b(?:DIN ?(?:125|126|9021|433|440)|ISO ?(?:7089|7090|7093|7091|7092))\b",
            "7318.22",
            0.7,
            "norma de arruela lisa (material presumido: aço)",
        ),
        (
            r"\b(?:DIN ?(?:471|472|6799)|ISO ?8734|DIN ?(?:7|6325|1481|94)|ISO ?(?:8752|1234))\b",
            "7318.29",
            0.6,
            "norma de anel de retenção/pino (material presumido: aço)",
        ),
    )
)
_DIN_SPACING = re.compile(r"\b(DIN|ISO)[-_ ]*(\d)", re.IGNORECASE)


_MAKERS = re.compile(r"^(?:SKF|FAG|NSK|NTN|KOYO|TIMKEN|INA|NACHI|ZKL|SNR)\b[\s-]*", re.I)


def match_partnumber(*texts: str | None, manufacturer: str | None = None) -> PatternHit | None:
    """The first rule that one of ``texts`` (part number, then description) matches, or None.
    The bearing rules need the whole text to be the designation; the standards may appear
    anywhere (``"PARAFUSO DIN 933 M8X30"``). A bare number (``6001``) is a bearing series only
    weakly, unless a bearing maker is named (prefix or ``manufacturer``)."""
    for text in texts:
        if not text:
            continue
        compact = _DIN_SPACING.sub(r"\1 \2", text.strip())
        bare = _MAKERS.sub("", compact)
        maker = bare != compact or bool(manufacturer and _MAKERS.match(manufacturer.strip()))
        for pattern, code, confidence, reason in _RULES:
            if pattern.search(bare):
                if code.startswith("8482") and bare.isdigit() and not maker:
                    confidence, reason = 0.4, reason + "; só dígitos e sem fabricante: confirme"
                return PatternHit(code, confidence, reason)
    return None
