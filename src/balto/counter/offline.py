"""``balto transcrever``: a recording through a counter's pipeline, as the server would hear it.

Sans-IO: the caller reads the file and owns the transcriber; this module turns the bytes into
16 kHz audio (:mod:`balto.counter.audio.wav`), runs it through the pipeline that
:func:`balto.counter.pipeline.counter_pipeline` builds for a live session, and formats what
came out. The audio is fed in the counter's 100 ms frames and every decode the session's
scheduler asks for is run at once, as by a server that keeps up with the stream:

* interim decodes too, so a trigger fires before the customer stops talking, as it would live;
* the detector's clock is the stream position where the decoded audio ends, so its cooldown
  (``RECOMMENDATION_COOLDOWN_S``) leaves exactly the ``recomendar`` the server would send;
* at the end of the file the open utterance is closed (a live counter would go on sending
  silence, which closes it the same way);
* a counter's microphone is open before anyone speaks, but a recording may start mid-word: the
  VAD would take that speech for its first noise floor and lose the first words, so
  :data:`LEAD_IN_S` of silence goes in first. Every time reported is in the recording's own
  seconds.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from balto.core.errors import BadRequest
from balto.counter.asr.base import Transcriber
from balto.counter.audio.pcm import resample_to_target
from balto.counter.audio.segmenter import DecodeJob
from balto.counter.audio.types import SAMPLE_RATE_HZ, Audio
from balto.counter.audio.wav import WavFormat, decode_wav
from balto.counter.detect import Opportunity
from balto.counter.pipeline import CounterPipeline
from balto.counter.ws.scheduler import Decode

#: Audio handed to the segmenter at a time: a counter's usual WebSocket frame.
FRAME_S = 0.1
#: Silence fed before the recording (see the module docstring).
LEAD_IN_S = 1.0


class UnreadableFile(BadRequest):
    """A file given to the command could not be read (missing, a directory, no permission)."""


@dataclasses.dataclass(frozen=True, slots=True, eq=False)
class Recording:
    """A decoded file: its format, and its audio as the pipeline takes it (16 kHz mono)."""

    format: WavFormat
    duration_s: float
    truncated: bool
    audio: Audio


@dataclasses.dataclass(frozen=True, slots=True)
class Segment:
    """One utterance as the segmenter cut it (stream seconds) and whisper heard it."""

    start_s: float
    end_s: float
    text: str


@dataclasses.dataclass(frozen=True, slots=True)
class Finding:
    """One ``recomendar`` the server would send.

    ``segment`` is the utterance it came from, as all its decodes heard it; ``at_s`` is how far
    the stream had gone when the decode that fired was ready to run (for a final, after the
    hangover), when the server would start it; ``interim`` when an interim decode fired it,
    before the utterance ended.
    """

    opportunity: Opportunity
    segment: Segment
    at_s: float
    interim: bool


@dataclasses.dataclass(frozen=True, slots=True)
class Transcription:
    recording: Recording
    segments: tuple[Segment, ...]
    findings: tuple[Finding, ...]

    @property
    def text(self) -> str:
        return " ".join(segment.text for segment in self.segments)


@dataclasses.dataclass(frozen=True, slots=True)
class _Heard:
    job: DecodeJob
    text: str  # the utterance so far, as its decodes up to this one heard it
    opportunities: list[Opportunity]


def load_recording(data: bytes) -> Recording:
    """Decode a WAV file's bytes (any rate, channels, sample format) for the pipeline."""
    wav = decode_wav(data)
    audio = resample_to_target(wav.samples, wav.format.sample_rate_hz)
    return Recording(wav.format, wav.duration_s, wav.truncated, audio)


def transcribe_recording(
    recording: Recording, transcriber: Transcriber, pipeline: CounterPipeline
) -> Transcription:
    """Run ``recording`` through a fresh ``pipeline`` (one per recording: one counter)."""
    segments, findings = transcribe_audio(recording.audio, transcriber, pipeline)
    return Transcription(recording, segments, findings)


def transcribe_audio(
    audio: Audio, transcriber: Transcriber, pipeline: CounterPipeline
) -> tuple[tuple[Segment, ...], tuple[Finding, ...]]:
    """16 kHz mono ``audio`` through a fresh ``pipeline``: its utterances and what fired."""
    heard = _hear(audio, transcriber, pipeline)
    utterances = _utterances(heard)
    findings = tuple(
        Finding(
            opportunity,
            segment=utterances[h.job.utterance_id],
            at_s=h.job.ready_at_s - LEAD_IN_S,
            interim=not h.job.final,
        )
        for h in heard
        for opportunity in h.opportunities
    )
    return tuple(utterances.values()), findings


def _hear(audio: Audio, transcriber: Transcriber, pipeline: CounterPipeline) -> list[_Heard]:
    segmenter, scheduler = pipeline.segmenter, pipeline.scheduler
    heard: list[_Heard] = []
    frame = round(FRAME_S * SAMPLE_RATE_HZ)
    lead_in = np.zeros(round(LEAD_IN_S * SAMPLE_RATE_HZ), dtype=np.float32)
    audio = np.concatenate([lead_in, audio])
    for offset in range(0, len(audio), frame):
        scheduler.push(segmenter.push(audio[offset : offset + frame]), segmenter.position_s)
        _decode_due(transcriber, pipeline, heard)
    scheduler.push(segmenter.flush(), len(audio) / SAMPLE_RATE_HZ)
    _decode_due(transcriber, pipeline, heard)
    return heard


def _decode_due(transcriber: Transcriber, pipeline: CounterPipeline, heard: list[_Heard]) -> None:
    """What ``CounterSession._recognize`` and ``_decode`` do, with no audio waiting upstream."""
    while (step := pipeline.scheduler.next_step(0.0)) is not None:
        if not isinstance(step, Decode):
            continue  # too late to decode: lost, as on the server
        job = step.job
        text = transcriber.transcribe(job.audio, pipeline.options)
        pipeline.scheduler.decoded(job)
        if text:
            text = pipeline.transcript.heard(job, text)
            heard.append(_Heard(job, text, pipeline.detector.detect(text, job.ready_at_s)))


def _utterances(heard: list[_Heard]) -> dict[int, Segment]:
    """Each utterance as its last decode left it: what all its decodes heard, stitched
    (:class:`balto.counter.ws.transcript.UtteranceTranscript`), from its first sample."""
    spans: dict[int, tuple[float, float, str]] = {}
    for h in heard:
        job = h.job
        start = (
            min(job.start_s, spans[job.utterance_id][0])
            if job.utterance_id in spans
            else job.start_s
        )
        spans[job.utterance_id] = (start, job.end_s, h.text)
    return {
        utterance: Segment(max(0.0, start - LEAD_IN_S), end - LEAD_IN_S, text)
        for utterance, (start, end, text) in spans.items()
    }


# -- output ---------------------------------------------------------------------------------


def to_json(name: str, result: Transcription) -> dict[str, Any]:
    """The ``--json`` line of one file."""
    recording = result.recording
    return {
        "arquivo": name,
        "duracao_s": _round(recording.duration_s),
        "taxa_hz": recording.format.sample_rate_hz,
        "canais": recording.format.channels,
        "formato": recording.format.describe(),
        "truncado": recording.truncated,
        "texto": result.text,
        "segmentos": [
            {"inicio_s": _round(s.start_s), "fim_s": _round(s.end_s), "texto": s.text}
            for s in result.segments
        ],
        "oportunidades": [_finding_json(f) for f in result.findings],
    }


def _finding_json(finding: Finding) -> dict[str, Any]:
    opportunity, segment = finding.opportunity, finding.segment
    return {
        "regra": opportunity.rule_id,
        "tipo": opportunity.tipo,
        "categoria": opportunity.categoria,
        "mensagem": opportunity.mensagem,
        "produto": opportunity.produto,
        "gatilho": opportunity.gatilho,
        "inicio_s": _round(segment.start_s),
        "fim_s": _round(segment.end_s),
        "trecho": segment.text,
        "disparo_s": _round(finding.at_s),
        "parcial": finding.interim,
    }


def error_json(name: str, message: str) -> dict[str, Any]:
    return {"arquivo": name, "erro": message}


def to_text(name: str, result: Transcription) -> str:
    """The human-readable report of one file (Portuguese)."""
    recording = result.recording
    fmt = recording.format
    channels = "1 canal" if fmt.channels == 1 else f"{fmt.channels} canais"
    lines = [
        f"{name}: {_seconds(recording.duration_s)} s, {fmt.sample_rate_hz} Hz, {channels} "
        f"({fmt.describe()})"
    ]
    if recording.truncated:
        lines.append("  aviso: arquivo truncado; transcrito o áudio que ele contém")
    if result.segments:
        lines.append("  transcrição:")
        lines += [
            f"    [{_seconds(s.start_s)}–{_seconds(s.end_s)} s] {s.text}" for s in result.segments
        ]
    else:
        lines.append("  transcrição: (nenhuma fala reconhecida)")
    if result.findings:
        lines.append("  oportunidades:")
        for finding in result.findings:
            o = finding.opportunity
            when = "durante a fala" if finding.interim else "no fim da fala"
            lines.append(
                f"    aos {_seconds(finding.at_s)} s ({when}): {o.rule_id}: {o.mensagem} "
                + (f"(produto: {o.produto}; " if o.produto else "(encaminhamento; ")
                + f"gatilho: “{o.gatilho}”)"
            )
    else:
        lines.append("  oportunidades: nenhuma")
    return "\n".join(lines)


def _round(seconds: float) -> float:
    return round(seconds, 2)


def _seconds(seconds: float) -> str:
    return f"{seconds:.1f}".replace(".", ",")
