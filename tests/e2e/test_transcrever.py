"""``balto transcrever`` from the command line: bad files, output formats, and the real model.

The slow test runs whisper base on a real recording from ``../shared/speech`` (read in place,
never copied) and on an espeak-ng complaint written at 44.1 kHz stereo, so that the resampling
and channel mixing path is the one that hears it.
"""

from __future__ import annotations

import json
import re
import unicodedata
import wave
from pathlib import Path

import numpy as np
import pytest
import soxr
from bench.speech import espeak_available, silence, synthesize

import balto.counter.app
from balto.cli import main
from tests.counter.audio.speech_fixtures import needs_espeak, sentence
from tests.counter.test_offline import FakeWhisper

REPO = Path(__file__).resolve().parents[2]
SHARED_SPEECH = REPO.parent / "shared" / "speech" / "real"
REAL_FILE = "ttspt_01.wav"  # "A inauguração da vila é quarta ou quinta-feira"
COMPLAINT = "Estou com muita dor nas costas."


def write_wav(path: Path, audio: np.ndarray, *, rate: int = 16_000, channels: int = 1) -> Path:
    """``audio`` (16 kHz mono float) written at ``rate`` with ``channels`` (16-bit PCM)."""
    if rate != 16_000:
        audio = soxr.resample(audio, 16_000, rate).astype(np.float32)
    frames = np.column_stack([audio * (1.0 - 0.2 * c) for c in range(channels)])
    with wave.open(str(path), "wb") as out:
        out.setnchannels(channels)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes((np.clip(frames, -1, 1) * 32767).astype("<i2").tobytes())
    return path


def json_lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines()]


@pytest.fixture
def fake_model(monkeypatch: pytest.MonkeyPatch) -> list[FakeWhisper]:
    """``whisper_factory`` replaced by scripted transcribers (one per load, kept here)."""
    loaded: list[FakeWhisper] = []

    def factory(config):
        def load() -> FakeWhisper:
            loaded.append(FakeWhisper(lambda i, s: "Estou com dor nas costas"))
            return loaded[-1]

        return load

    monkeypatch.setattr(balto.counter.app, "whisper_factory", factory)
    return loaded


def test_bad_files_are_reported_one_by_one_without_loading_the_model(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], fake_model: list[FakeWhisper]
) -> None:
    (tmp_path / "texto.wav").write_text("não sou áudio")
    (tmp_path / "vazio.wav").write_bytes(b"")
    (tmp_path / "sem_audio.wav").write_bytes(
        write_wav(tmp_path / "x.wav", np.zeros(0, np.float32)).read_bytes()
    )
    good = write_wav(tmp_path / "x.wav", np.full(1600, 0.1, np.float32)).read_bytes()
    (tmp_path / "cortado.wav").write_bytes(good[:30])
    names = ["nada.wav", "texto.wav", "vazio.wav", "sem_audio.wav", "cortado.wav", "."]
    paths = [str(tmp_path / n) for n in names[:-1]] + [str(tmp_path)]

    code = main(["transcrever", "--json", *paths])

    out, err = capsys.readouterr()
    assert code == 1
    assert fake_model == []  # nothing readable: the model was never loaded
    errors = [line["erro"] for line in json_lines(out)]
    assert [line["arquivo"] for line in json_lines(out)] == paths
    assert errors == [
        "arquivo não encontrado",
        "não é um arquivo WAV (falta o cabeçalho RIFF/WAVE)",
        "o arquivo está vazio",
        "o arquivo WAV não tem áudio",
        "arquivo WAV truncado: o bloco 'fmt ' está incompleto",
        "é um diretório, não um arquivo",
    ]
    assert err.splitlines() == [f"erro: {p}: {e}" for p, e in zip(paths, errors, strict=True)]


def test_a_rule_file_that_cannot_be_read_stops_at_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "regras.json"
    bad.write_text('{"versao": 2, "regras": []}')
    assert main(["transcrever", "--regras", str(bad), "x.wav"]) == 1
    assert "erro: regras" in capsys.readouterr().err
    assert main(["transcrever", "--regras", str(tmp_path / "nada.json"), "x.wav"]) == 1
    assert "arquivo não encontrado" in capsys.readouterr().err


@needs_espeak
def test_good_files_are_reported_between_bad_ones(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], fake_model: list[FakeWhisper]
) -> None:
    speech = np.concatenate([silence(0.5), sentence(0), silence(1.0)])
    first = write_wav(tmp_path / "um.wav", speech, rate=8_000)
    whole = write_wav(tmp_path / "dois.wav", speech, rate=48_000, channels=2).read_bytes()
    second = tmp_path / "dois_cortado.wav"
    second.write_bytes(whole[: len(whole) // 2 + 44])  # the recorder stopped mid-speech

    code = main(["transcrever", "--json", "--idioma", "en", str(first), "x.wav", str(second)])

    out, _ = capsys.readouterr()
    assert code == 1  # one file failed
    one, missing, two = json_lines(out)
    assert len(fake_model) == 1  # loaded once, for every file
    assert {options.language for _, options in fake_model[0].calls} == {"en"}
    assert missing == {"arquivo": "x.wav", "erro": "arquivo não encontrado"}
    assert (one["taxa_hz"], one["canais"], one["truncado"]) == (8000, 1, False)
    assert (two["taxa_hz"], two["canais"], two["truncado"]) == (48000, 2, True)
    for line in (one, two):
        assert line["texto"] == "Estou com dor nas costas"
        assert [o["regra"] for o in line["oportunidades"]] == ["dor_costas_muscular"]

    assert main(["transcrever", str(first), str(first)]) == 0
    out, _ = capsys.readouterr()
    assert out.count("um.wav: ") == 2
    assert "\n\n" in out  # one blank line between files
    assert "dor_costas_muscular: Sugerir Dorflex (produto: Dorflex" in out


def words(text: str) -> set[str]:
    plain = unicodedata.normalize("NFKD", text.lower()).encode("ascii", "ignore").decode()
    return set(re.findall(r"[a-z]+", plain))


@pytest.mark.slow
@pytest.mark.skipif(not espeak_available(), reason="espeak-ng missing (make test installs it)")
@pytest.mark.skipif(not (SHARED_SPEECH / REAL_FILE).is_file(), reason="no ../shared/speech")
def test_real_model_on_real_speech_and_a_resampled_complaint(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    manifest = (SHARED_SPEECH / "manifest.tsv").read_text(encoding="utf-8").splitlines()
    reference = next(line.split("\t")[-1] for line in manifest if line.startswith(REAL_FILE))
    complaint = np.concatenate([silence(0.5), synthesize(COMPLAINT), silence(1.0)])
    stereo = write_wav(tmp_path / "queixa.wav", complaint, rate=44_100, channels=2)

    code = main(["transcrever", "--json", str(SHARED_SPEECH / REAL_FILE), str(stereo)])

    out, err = capsys.readouterr()
    assert code == 0, err
    real, queixa = json_lines(out)
    print(f"\n{REAL_FILE}: {real['texto']!r}\nqueixa: {queixa['texto']!r}")
    heard = words(real["texto"])
    assert len(words(reference) & heard) >= 0.6 * len(words(reference))
    assert real["oportunidades"] == []  # a neutral sentence suggests nothing
    assert real["segmentos"] and real["segmentos"][0]["inicio_s"] < 1.0

    assert (queixa["taxa_hz"], queixa["canais"]) == (44100, 2)
    (opportunity,) = queixa["oportunidades"]
    assert opportunity["regra"] == "dor_costas_muscular"
    assert opportunity["mensagem"] == "Sugerir Dorflex"
    assert opportunity["trecho"] in [s["texto"] for s in queixa["segmentos"]]
    assert opportunity["inicio_s"] < opportunity["disparo_s"] <= opportunity["fim_s"]
