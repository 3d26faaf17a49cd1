from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from bench.noise import mix, shop_noise
from bench.room import counter_scene
from bench.speech import silence, synthesize

from balto.counter.audio.segmenter import DecodeJob, Segmenter, SegmenterConfig
from balto.counter.audio.vad import FRAME_SAMPLES

from .speech_fixtures import long_speech, needs_espeak, sentence

RATE = 16_000


class LoudVad:
    """Scripted VAD for exact policy tests: a frame is speech when its RMS exceeds 0.1."""

    frame_samples = FRAME_SAMPLES

    def is_speech(self, frame: np.ndarray) -> bool:
        return bool(np.sqrt(np.mean(np.square(frame))) > 0.1)

    def reset(self) -> None:
        pass


def loud(seconds: float) -> np.ndarray:
    return np.full(round(seconds * RATE), 0.5, dtype=np.float32)


def scripted(config: SegmenterConfig | None = None) -> Segmenter:
    return Segmenter(config, vad_factory=LoudVad)


def run(seg: Segmenter, audio: np.ndarray, chunk: int = FRAME_SAMPLES) -> list[DecodeJob]:
    jobs: list[DecodeJob] = []
    for i in range(0, len(audio), chunk):
        jobs += seg.push(audio[i : i + chunk])
    return jobs + seg.flush()


def finals(jobs: list[DecodeJob]) -> list[DecodeJob]:
    return [j for j in jobs if j.final]


def test_silence_gives_no_jobs() -> None:
    assert run(Segmenter(), silence(5.0)) == []
    assert run(scripted(), silence(5.0)) == []


def test_shop_noise_gives_no_jobs() -> None:
    assert run(Segmenter(), shop_noise(30.0, seed=11, level_db=-25.0)) == []


def test_one_burst_gives_one_final_job_with_preroll_and_tail() -> None:
    audio = np.concatenate([silence(1.0), loud(1.0), silence(1.0)])
    seg = scripted()
    jobs: list[tuple[float, DecodeJob]] = []
    for i in range(0, len(audio), FRAME_SAMPLES):
        jobs += [((i + FRAME_SAMPLES) / RATE, j) for j in seg.push(audio[i : i + FRAME_SAMPLES])]
    assert seg.flush() == []
    assert len(jobs) == 1
    emitted, job = jobs[0]
    assert job.final and job.utterance_id == 0
    assert job.start_s == pytest.approx(0.5)  # 500 ms pre-roll
    assert job.end_s == pytest.approx(2.5)  # 500 ms tail after the last speech frame
    assert emitted == pytest.approx(2.8)  # 800 ms hangover
    assert len(job.audio) == round((job.end_s - job.start_s) * RATE)
    np.testing.assert_array_equal(job.audio, audio[round(0.5 * RATE) : round(2.5 * RATE)])


def test_short_blip_is_dropped() -> None:
    audio = np.concatenate([silence(1.0), loud(0.1), silence(1.0)])
    assert run(scripted(), audio) == []


def test_two_bursts_give_two_utterances() -> None:
    audio = np.concatenate([silence(0.5), loud(1.0), silence(1.0), loud(1.0), silence(1.0)])
    jobs = run(scripted(), audio)
    assert [(j.utterance_id, j.final) for j in jobs] == [(0, True), (1, True)]


def test_long_speech_gives_interim_jobs_then_a_final() -> None:
    audio = np.concatenate([silence(0.5), loud(4.0), silence(1.0)])
    jobs = run(scripted(), audio)
    assert [j.final for j in jobs] == [False, False, True]
    assert {j.utterance_id for j in jobs} == {0}
    first, second, final = jobs
    assert first.end_s == pytest.approx(0.5 + 1.5)
    assert second.end_s == pytest.approx(0.5 + 3.0)
    for interim in (first, second):
        assert interim.start_s == final.start_s
        np.testing.assert_array_equal(interim.audio, final.audio[: len(interim.audio)])


def test_cap_forces_a_final_and_starts_a_new_utterance() -> None:
    config = SegmenterConfig(max_utterance_s=3.0, interim_every_s=10.0)
    audio = np.concatenate([silence(0.5), loud(7.0), silence(1.0)])
    jobs = run(scripted(config), audio)
    assert all(j.final for j in jobs)
    assert [j.utterance_id for j in jobs] == [0, 1, 2]
    assert all(j.duration_s <= 3.0 + 1e-9 for j in jobs)
    # Consecutive capped utterances tile the speech without gaps or overlaps.
    assert jobs[1].start_s == pytest.approx(jobs[0].end_s)
    assert jobs[2].start_s == pytest.approx(jobs[1].end_s)
    assert jobs[2].end_s == pytest.approx(7.5 + 0.5)


def test_default_cap_is_fifteen_seconds() -> None:
    jobs = run(scripted(), np.concatenate([loud(20.0), silence(1.0)]))
    assert max(j.duration_s for j in jobs) <= 15.0
    assert len(finals(jobs)) == 2


def test_flush_closes_an_open_utterance() -> None:
    seg = scripted()
    assert seg.push(np.concatenate([silence(0.5), loud(1.0)])) == []
    assert seg.in_utterance
    jobs = seg.flush()
    assert len(jobs) == 1 and jobs[0].final
    assert not seg.in_utterance


def test_chunking_does_not_change_the_jobs() -> None:
    audio = np.concatenate([silence(0.5), loud(2.0), silence(0.8), loud(0.7), silence(1.0)])
    reference = run(scripted(), audio)
    for chunk in (1, 7, 333, 4096, len(audio)):
        jobs = run(scripted(), audio, chunk)
        assert [(j.utterance_id, j.final, j.start_s, j.end_s) for j in jobs] == [
            (j.utterance_id, j.final, j.start_s, j.end_s) for j in reference
        ]


def test_config_is_frozen_and_validated() -> None:
    config = SegmenterConfig()
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.hangover_s = 1.0  # type: ignore[misc]
    with pytest.raises(ValueError):
        SegmenterConfig(start_frames=0)
    with pytest.raises(ValueError):
        SegmenterConfig(hangover_s=-1.0)
    with pytest.raises(ValueError):
        SegmenterConfig(interim_every_s=0.0)


@pytest.mark.slow
@needs_espeak
@pytest.mark.parametrize("snr_db", [None, 10.0])
def test_sentence_gives_one_final_job_covering_it(snr_db: float | None) -> None:
    speech = sentence(0)
    audio = np.concatenate([silence(1.0), speech, silence(1.5)])
    if snr_db is not None:
        audio = mix(audio, shop_noise(len(audio) / RATE, seed=5), snr_db)
    jobs = run(Segmenter(), audio)
    assert len(finals(jobs)) == 1
    job = jobs[-1]
    assert job.final and {j.utterance_id for j in jobs} == {job.utterance_id}
    assert job.start_s <= 1.0
    assert job.end_s >= 1.0 + len(speech) / RATE - 0.05


@pytest.mark.slow
@needs_espeak
def test_long_speech_gives_interims_then_finals() -> None:
    """Four sentences with 150 ms pauses. A natural voice pauses longer than that inside and
    between sentences (and trails off below what the VAD calls speech), so the segmenter may cut
    at those pauses; never more often than once per sentence, and the utterances it makes
    cover the speech from its first to its last sample."""
    speech = long_speech()
    audio = np.concatenate([silence(1.0), speech, silence(1.5)])
    jobs = run(Segmenter(), audio)
    assert jobs[-1].final
    assert sum(not j.final for j in jobs) >= 3
    final_jobs = finals(jobs)
    assert 1 <= len(final_jobs) <= 4
    for job in final_jobs:  # each utterance ends with exactly one final, after its interims
        own = [j for j in jobs if j.utterance_id == job.utterance_id]
        assert own[-1] is job and sum(j.final for j in own) == 1
    assert final_jobs[0].start_s <= 1.0
    assert final_jobs[-1].end_s >= 1.0 + len(speech) / RATE - 0.05


def test_short_pauses_count_towards_the_next_interim_long_ones_do_not() -> None:
    """A natural voice is flagged as speech in patches: talking with 200 ms gaps still gets an
    interim every 1.5 s; a 600 ms pause (shorter than the hangover) adds only 300 ms."""
    patchy = np.concatenate([silence(0.5)] + [loud(0.3), silence(0.2)] * 8 + [silence(1.0)])
    interims = [j for j in run(scripted(), patchy) if not j.final]
    assert [round(j.end_s, 2) for j in interims] == [2.0, 3.5]  # 1.5 s of talking each
    paused = np.concatenate([silence(0.5), loud(1.0), silence(0.6), loud(0.3), silence(1.0)])
    first = next(j for j in run(scripted(), paused) if not j.final)
    assert first.end_s == pytest.approx(0.5 + 1.0 + 0.6 + 0.2)  # 1.0 + 0.3 of pause + 0.2


@pytest.mark.slow
@needs_espeak
@pytest.mark.parametrize(
    "text",
    [
        "Oi, boa noite, meu marido tá com a parte de baixo das costas toda dura.",
        "Minha filha bateu a testa na porta e fez um galo.",
        "Eita, parece que tem alguém martelando aqui dentro da minha cabeça.",
    ],
)
def test_a_reverberant_sentence_is_kept_whole_after_its_first_pause(text: str) -> None:
    """In the counter room (reverberation, no noise) the natural voice's harmonics are smeared,
    and the VAD called most frames after the first pause not voiced: the noise floor climbed
    to the voice's level within a second and the rest of the sentence was never segmented
    ("Oi, boa noite, meu marido…" was heard as "Oi, boa noite!"). Hysteresis keeps it."""
    scene = counter_scene([synthesize(text)], snr_db=None, seed=30)
    (turn,) = scene.turns
    audio = np.concatenate([silence(1.0), scene.audio])
    spans = [(j.start_s - 1.0, j.end_s - 1.0) for j in finals(run(Segmenter(), audio))]
    covered = sum(max(0.0, min(e, turn.end_s) - max(s, turn.start_s)) for s, e in spans)
    assert covered >= 0.9 * (turn.end_s - turn.start_s)


def test_a_pause_after_new_speech_gives_an_interim_before_the_final() -> None:
    config = SegmenterConfig(pause_interim_s=0.3)
    audio = np.concatenate([silence(0.5), loud(1.0), silence(0.4), loud(0.6), silence(1.2)])
    jobs = run(scripted(config), audio)
    assert [j.final for j in jobs] == [False, False, True]
    first, second, final = jobs
    # 0.3 s into each pause; the second pause is the one that ends the utterance
    assert first.end_s == pytest.approx(0.5 + 1.0 + 0.3)
    assert first.last_speech_s == pytest.approx(1.5)
    assert second.end_s == pytest.approx(0.5 + 1.0 + 0.4 + 0.6 + 0.3)
    assert final.last_speech_s == pytest.approx(2.5)


def test_no_pause_interim_without_new_speech_or_when_off() -> None:
    audio = np.concatenate([silence(0.5), loud(1.0), silence(0.4), loud(1.0), silence(1.2)])
    assert [j.final for j in run(scripted(), audio)] == [False, True]  # the 1.5 s interim only
    paused = run(scripted(SegmenterConfig(pause_interim_s=0.3, interim_every_s=10.0)), audio)
    # one interim per pause after speech; the 1.2 s of silence at the end gives one, not four
    assert [j.final for j in paused] == [False, False, True]


def test_interim_triggers_switch_off_and_on_while_streaming() -> None:
    config = SegmenterConfig(interim_every_s=1.0, pause_interim_s=0.3)
    phrase = np.concatenate([loud(1.2), silence(0.4)])  # a periodic interim, then a pause one
    audio = np.concatenate([silence(0.5), phrase, phrase, phrase, silence(1.2)])
    seg = scripted(config)
    jobs: list[DecodeJob] = []
    half = len(silence(0.5)) + len(phrase)
    for start, periodic, at_pauses in (
        (0, True, True),
        (half, False, True),
        (half * 2, True, False),
    ):
        seg.periodic, seg.at_pauses = periodic, at_pauses
        stop = start + half if start < half * 2 else len(audio)
        for i in range(start, stop, FRAME_SAMPLES):
            jobs += seg.push(audio[i : min(i + FRAME_SAMPLES, stop)])
    assert [j.final for j in jobs] == [False, False, False, False, True]
    # both triggers in the first phrase, the pause one alone in the second, the periodic one
    # alone in the third (it counts talk since the last job), and the final
    ends = [round(j.end_s, 1) for j in jobs]
    assert ends == [1.5, 2.0, 3.6, 4.7, 5.4]


def test_a_trigger_the_config_leaves_out_stays_off() -> None:
    seg = scripted(SegmenterConfig(interim_every_s=None))
    seg.periodic = seg.at_pauses = True
    audio = np.concatenate([silence(0.5), loud(3.0), silence(0.4), loud(1.0), silence(1.2)])
    assert [j.final for j in run(seg, audio)] == [True]


def test_pause_interim_must_be_positive() -> None:
    with pytest.raises(ValueError, match="pause_interim_s"):
        SegmenterConfig(pause_interim_s=0.0)


def test_since_keeps_the_audio_from_a_stream_position_on() -> None:
    audio = np.arange(32_000, dtype=np.float32)
    job = DecodeJob(3, audio, False, 10.0, 12.0, speech_end_s=11.5)
    later = job.since(11.25)
    assert later.start_s == pytest.approx(11.25) and later.end_s == 12.0
    np.testing.assert_array_equal(later.audio, audio[20_000:])
    assert later.last_speech_s == 11.5
    assert job.since(9.0) is job
    assert len(job.since(13.0).audio) == 0
