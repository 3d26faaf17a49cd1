from __future__ import annotations

import pytest

from balto.counter.asr.hallucinations import clean_transcript, default_filter, normalize


def test_normalize() -> None:
    expected = "legendas pela comunidade amara org"
    assert normalize("  Legendas pela comunidade Amara.org!  ") == expected
    assert normalize("Dor de CABEÇA...") == "dor de cabeca"


@pytest.mark.parametrize(
    "text",
    [
        "Legendas pela comunidade Amara.org",
        "Obrigado.",
        " Obrigada! ",
        "Inscreva-se no canal!",
        "♪♪",
        "[Música]",
        "...",
        "Legendado por Fulano",
        "Obrigado por assistir e até o próximo vídeo",
        "",
    ],
)
def test_known_noise_phrases(text: str) -> None:
    assert default_filter().is_hallucination(text)


@pytest.mark.parametrize(
    "text",
    [
        "Estou com dor de cabeça",
        "Obrigado, vou levar esse remédio para gripe",
        "Você tem protetor solar?",
        "Tem algum remédio para azia?",
    ],
)
def test_real_speech_passes(text: str) -> None:
    assert not default_filter().is_hallucination(text)


PROMPT = "Farmácia. Dor de cabeça, dor nas costas, febre, gripe, tosse, azia, alergia, garganta."


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        (
            "Estou com dor de cabeça. Estou com dor de cabeça. Estou com dor de cabe",
            "Estou com dor de cabeça.",
        ),
        ("Estou com dor de cabeça.", "Estou com dor de cabeça."),
        ("O que é o que é o que é o que é o que é o que", ""),
        ("não não", "não"),
        ("O cliente fala de dor de cabeça, dor nas costas, febre, gripe, tosse,", ""),
        ("Estou com dor de cabeça e dor nas costas desde ontem", None),
        ("  ♪ Legendas pela comunidade Amara.org ♪ ", ""),
    ],
)
def test_clean_transcript(raw: str, clean: str | None) -> None:
    assert clean_transcript(raw, PROMPT) == (raw if clean is None else clean)
