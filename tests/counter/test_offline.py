"""``balto transcrever``'s core with a scripted transcriber: segments, cooldown, interim fires.

Natural-voice speech (``bench.speech``) drives the VAD; the text is scripted, so what is checked
is the pipeline's bookkeeping, not whisper (tests/e2e/test_transcrever.py runs the real model).
"""

from __future__ import annotations

import io
import json
import wave
from collections.abc import Callable

import numpy as np
import pytest
import soxr
from bench.speech import synthesize

from balto.counter.asr.base import DecodeOptions
from balto.counter.audio.types import SAMPLE_RATE_HZ
from balto.counter.config import CounterConfig
from balto.counter.detect import default_rules, load_rules
from balto.counter.offline import (
    Transcription,
    load_recording,
    to_json,
    to_text,
    transcribe_recording,
)
from balto.counter.pipeline import DecodePolicy, counter_pipeline, decode_options
from balto.counter.ws.transcript import merge_words
from tests.counter.audio.speech_fixtures import needs_espeak, sentence

pytestmark = needs_espeak

COMPLAINT = "Estou com muita dor nas costas."


class FakeWhisper:
    """Answers ``script(call_index, seconds)``; records every call."""

    def __init__(self, script: Callable[[int, float], str]) -> None:
        self.script = script
        self.calls: list[tuple[float, DecodeOptions]] = []

    def transcribe(self, audio: np.ndarray, options: DecodeOptions) -> str:
        self.calls.append((len(audio) / SAMPLE_RATE_HZ, options))
        return self.script(len(self.calls) - 1, len(audio) / SAMPLE_RATE_HZ)

    def close(self) -> None:
        pass


def quiet(seconds: float) -> np.ndarray:
    return np.zeros(round(seconds * SAMPLE_RATE_HZ), dtype=np.float32)


def wav_bytes(audio: np.ndarray, rate: int = SAMPLE_RATE_HZ) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes((np.clip(audio, -1, 1) * 32767).astype("<i2").tobytes())
    return buffer.getvalue()


def run(
    audio: np.ndarray,
    script: Callable[[int, float], str],
    *,
    config: CounterConfig | None = None,
    rules_json: str | None = None,
    language: str = "pt",
) -> tuple[Transcription, FakeWhisper]:
    config = config or CounterConfig.from_env({})
    rules = default_rules() if rules_json is None else load_rules(rules_json)
    whisper = FakeWhisper(script)
    recording = load_recording(wav_bytes(audio))
    result = transcribe_recording(recording, whisper, counter_pipeline(config, rules, language))
    return result, whisper


def test_utterances_become_segments_and_the_text_joins_them() -> None:
    audio = np.concatenate([quiet(0.5), sentence(0), quiet(1.0), sentence(3), quiet(1.0)])
    result, whisper = run(audio, lambda i, s: f"fala de {s:.1f} s")
    assert len(result.segments) == 2
    first, second = result.segments
    assert 0.2 < first.start_s < 0.6 < first.end_s < second.start_s < second.end_s
    assert result.text == f"{first.text} {second.text}"
    assert result.findings == ()
    # every decode got the server's options: the language, no prompt
    assert {options for _, options in whisper.calls} == {decode_options("pt")}


def test_interim_decodes_run_as_on_a_server_that_keeps_up() -> None:
    long = np.concatenate([sentence(0), sentence(1)])  # one utterance, about 4 s of speech
    result, whisper = run(np.concatenate([quiet(0.5), long, quiet(1.0)]), lambda i, s: "algo")
    durations = [seconds for seconds, _ in whisper.calls]
    assert len(durations) >= 3  # interims every 1.5 s of the utterance, then the final
    assert durations == sorted(durations)  # each interim carries the audio so far
    assert len(result.segments) == 1


def test_a_complaint_fires_once_per_cooldown_with_its_segment() -> None:
    audio = np.concatenate([quiet(0.5), sentence(0), quiet(1.0), sentence(1), quiet(1.0)])
    result, _ = run(audio, lambda i, s: COMPLAINT)  # every decode, interim or final
    assert [f.opportunity.rule_id for f in result.findings] == ["dor_costas_muscular"]
    finding = result.findings[0]
    assert finding.opportunity.mensagem == "Sugerir Dorflex"
    assert finding.segment == result.segments[0]
    assert finding.interim  # the first interim decode already heard it
    assert finding.at_s < finding.segment.end_s

    short = CounterConfig.from_env({}, recommendation_cooldown_s=1.0)
    result, _ = run(audio, lambda i, s: COMPLAINT, config=short)
    fired = {f.segment for f in result.findings}
    assert fired == set(result.segments)  # the second utterance is past the cooldown


def test_a_fire_on_an_interim_reports_the_final_segment() -> None:
    long = np.concatenate([sentence(0), sentence(1)])
    result, _ = run(
        np.concatenate([quiet(0.5), long, quiet(1.0)]),
        lambda i, s: COMPLAINT if i == 0 else "outra coisa",
    )
    (finding,) = result.findings
    assert finding.interim
    assert finding.segment.text == "outra coisa"  # the utterance as finally heard
    assert finding.opportunity.gatilho == "dor nas costas"  # what fired it


def test_the_rule_file_and_language_are_used() -> None:
    rules = {
        "versao": 1,
        "regras": [
            {
                "id": "protetor",
                "categoria": "sol",
                "gatilhos": ["protetor solar"],
                "mensagem": "Sugerir FPS 50",
                "produto": "Protetor",
            }
        ],
    }
    audio = np.concatenate([quiet(0.5), sentence(0), quiet(1.0)])
    result, whisper = run(
        audio, lambda i, s: "vocês têm protetor solar?", rules_json=json.dumps(rules), language="es"
    )
    assert [f.opportunity.rule_id for f in result.findings] == ["protetor"]
    assert whisper.calls[0][1].language == "es"
    assert whisper.calls[0][1].prompt == ""  # no vocabulary prompt: it leaks into transcripts


def test_speech_at_the_very_end_is_still_heard() -> None:
    result, _ = run(np.concatenate([quiet(0.5), sentence(0)]), lambda i, s: COMPLAINT)
    assert len(result.segments) == 1
    assert result.segments[0].end_s == pytest.approx(result.recording.duration_s, abs=0.05)
    assert [f.opportunity.rule_id for f in result.findings] == ["dor_costas_muscular"]


def test_silence_and_unheard_speech_give_an_empty_transcript() -> None:
    result, whisper = run(quiet(2.0), lambda i, s: "nunca")
    assert whisper.calls == []
    assert result.text == ""
    result, _ = run(np.concatenate([quiet(0.5), sentence(0), quiet(1.0)]), lambda i, s: "")
    assert result.segments == ()


def test_output_formats() -> None:
    audio = np.concatenate([quiet(0.5), sentence(0), quiet(1.0)])
    result, _ = run(audio, lambda i, s: COMPLAINT)
    line = to_json("fala.wav", result)
    assert line["arquivo"] == "fala.wav"
    assert line["texto"] == COMPLAINT
    assert line["duracao_s"] == pytest.approx(len(audio) / SAMPLE_RATE_HZ, abs=0.01)
    assert (line["taxa_hz"], line["canais"], line["truncado"]) == (16000, 1, False)
    (segment,) = line["segmentos"]
    (opportunity,) = line["oportunidades"]
    assert opportunity["regra"] == "dor_costas_muscular"
    assert opportunity["produto"] == "Dorflex"
    assert opportunity["trecho"] == segment["texto"] == COMPLAINT
    assert (opportunity["inicio_s"], opportunity["fim_s"]) == (
        segment["inicio_s"],
        segment["fim_s"],
    )
    assert json.loads(json.dumps(line, ensure_ascii=False)) == line

    text = to_text("fala.wav", result)
    assert text.startswith("fala.wav: ")
    assert COMPLAINT in text
    assert "dor_costas_muscular: Sugerir Dorflex (produto: Dorflex" in text


def test_a_recording_that_starts_mid_speech_keeps_its_first_words() -> None:
    """A 48 kHz recording that starts speaking at once: without the lead-in the VAD took the
    first words for its noise floor and the first segment began at about 1 s."""
    speech = synthesize("Boa tarde, tô com uma tosse seca que não passa e a garganta arranhando.")
    at_48k = soxr.resample(speech, SAMPLE_RATE_HZ, 48_000).astype(np.float32)
    recording = load_recording(wav_bytes(at_48k, rate=48_000))
    whisper = FakeWhisper(lambda i, s: "algo")
    pipeline = counter_pipeline(CounterConfig.from_env({}), default_rules(), "pt")
    result = transcribe_recording(recording, whisper, pipeline)
    first = result.segments[0]
    assert first.start_s == 0.0
    assert first.end_s >= len(speech) / SAMPLE_RATE_HZ - 0.05


def test_windows_of_an_utterance_join_without_the_words_their_overlap_repeats() -> None:
    assert merge_words("tô com uma dor", "Dor nas costas") == "tô com uma dor nas costas"
    assert merge_words("boa tarde, tô com", "tô com febre") == "boa tarde, tô com febre"
    assert merge_words("bom dia", "quanto custa") == "bom dia quanto custa"
    assert merge_words("", "quanto custa") == "quanto custa"
    assert merge_words("a a a", "a a a b", most=2) == "a a a a b"  # only up to `most` words


def test_a_windowed_policy_hears_each_stretch_once_and_keeps_the_whole_utterance() -> None:
    long = np.concatenate([sentence(0), quiet(0.45), sentence(1)])  # one utterance, a pause
    audio = np.concatenate([quiet(0.5), long, quiet(1.5)])
    config = CounterConfig.from_env({})
    policy = DecodePolicy(pause_interim_s=0.3, window_overlap_s=0.5, skip_covered_finals=True)
    whisper = FakeWhisper(lambda i, s: f"parte {i}")
    pipeline = counter_pipeline(config, default_rules(), "pt", policy=policy)
    recording = load_recording(wav_bytes(audio))
    result = transcribe_recording(recording, whisper, pipeline)
    (segment,) = result.segments
    decoded = sum(seconds for seconds, _ in whisper.calls)
    # every window after the first starts 0.5 s before the last one's end: about the
    # utterance once, plus one overlap per window (the final adds nothing: covered)
    assert decoded < segment.end_s - segment.start_s + 0.5 * len(whisper.calls) + 0.2
    assert segment.text == " ".join(f"parte {i}" for i in range(len(whisper.calls)))


def test_a_complaint_split_between_two_windows_is_read_whole() -> None:
    """A windowed decode hears only the audio after the last one (plus an overlap): the
    detector reads the utterance's text so far, so "tô com uma dor" | "nas costas" fires."""
    long = np.concatenate([sentence(0), quiet(0.45), sentence(1)])
    audio = np.concatenate([quiet(0.5), long, quiet(1.5)])
    policy = DecodePolicy(pause_interim_s=0.3, window_overlap_s=0.5, skip_covered_finals=True)
    words = ["tô com uma dor", "nas costas"]
    whisper = FakeWhisper(lambda i, s: words[i] if i < len(words) else "")
    pipeline = counter_pipeline(CounterConfig.from_env({}), default_rules(), "pt", policy=policy)
    result = transcribe_recording(load_recording(wav_bytes(audio)), whisper, pipeline)
    assert len(whisper.calls) >= 2
    assert [f.opportunity.rule_id for f in result.findings] == ["dor_costas_muscular"]
    assert result.segments[0].text == "tô com uma dor nas costas"
