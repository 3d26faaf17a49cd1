"""The recognition scheduler, synchronously: no Trio, no recognizer."""

import dataclasses
import pathlib

import numpy as np
import pytest

from balto.counter.audio.segmenter import DecodeJob
from balto.counter.ws.scheduler import (
    INTERIM_MAX_LAG_S,
    Covered,
    Decode,
    RecognitionScheduler,
    Skip,
    Step,
)


def job(utterance: int, start_s: float, end_s: float, *, final: bool) -> DecodeJob:
    audio = np.zeros(int((end_s - start_s) * 16_000), dtype=np.float32)
    return DecodeJob(utterance, audio, final, start_s, end_s)


def drain(scheduler: RecognitionScheduler, backlog_s: float = 0.0) -> list[Step]:
    steps = []
    while (step := scheduler.next_step(backlog_s)) is not None:
        steps.append(step)
    return steps


def test_fresh_jobs_are_decoded_in_order():
    scheduler = RecognitionScheduler(final_max_lag_s=3.0)
    a, b = job(1, 0.0, 2.5, final=False), job(2, 2.6, 3.0, final=True)
    scheduler.push([a, b], position_s=3.0)
    assert drain(scheduler) == [Decode(a), Decode(b)]
    assert scheduler.next_step(0.0) is None and len(scheduler) == 0


def test_an_interim_is_superseded_by_a_newer_job_of_its_utterance():
    scheduler = RecognitionScheduler(final_max_lag_s=3.0)
    old, newer, final = (
        job(1, 0.0, 1.5, final=False),
        job(1, 0.0, 3.0, final=False),
        job(1, 0.0, 3.2, final=True),
    )
    other = job(2, 3.5, 4.0, final=False)
    scheduler.push([old, newer, other, final], position_s=4.0)
    assert drain(scheduler) == [Decode(other), Decode(final)]


def test_a_final_is_never_superseded():
    scheduler = RecognitionScheduler(final_max_lag_s=3.0)
    first, second = job(1, 0.0, 1.0, final=True), job(1, 1.0, 2.0, final=True)
    scheduler.push([first, second], position_s=2.0)
    assert drain(scheduler) == [Decode(first), Decode(second)]


def test_superseding_reaches_jobs_still_waiting_from_an_earlier_push():
    scheduler = RecognitionScheduler(final_max_lag_s=3.0)
    interim, final = job(1, 0.0, 1.5, final=False), job(1, 0.0, 2.0, final=True)
    scheduler.push([interim], position_s=1.5)
    scheduler.push([final], position_s=2.0)
    assert drain(scheduler) == [Decode(final)]


def test_a_late_interim_is_skipped_without_losing_audio():
    scheduler = RecognitionScheduler(final_max_lag_s=3.0)
    interim = job(1, 0.0, 1.5, final=False)
    scheduler.push([interim], position_s=2.0)
    step = scheduler.next_step(backlog_s=0.6)  # 0.5 s behind the segmenter, 0.6 s upstream
    assert isinstance(step, Skip) and step.job is interim
    assert step.lag_s == pytest.approx(1.1) and step.dropped_s == 0.0


def test_lag_at_the_limit_is_still_decoded():
    scheduler = RecognitionScheduler(final_max_lag_s=2.0)
    interim, final = job(1, 0.0, 1.0, final=False), job(2, 1.0, 2.0, final=True)
    scheduler.push([interim], position_s=1.0 + INTERIM_MAX_LAG_S)
    assert scheduler.next_step(0.0) == Decode(interim)
    scheduler.push([final], position_s=2.0)
    assert scheduler.next_step(2.0) == Decode(final)


def test_a_late_final_is_skipped_and_its_audio_counted():
    scheduler = RecognitionScheduler(final_max_lag_s=2.0)
    final = job(1, 0.5, 3.0, final=True)
    scheduler.push([final], position_s=3.5)
    step = scheduler.next_step(backlog_s=2.0)
    assert isinstance(step, Skip) and step.job is final
    assert step.lag_s == pytest.approx(2.5) and step.dropped_s == pytest.approx(2.5)


def test_lag_is_read_again_before_each_job():
    """Audio piles up upstream while earlier jobs decode: later jobs of the batch go stale."""
    scheduler = RecognitionScheduler(final_max_lag_s=3.0)
    first, second = job(1, 0.0, 2.0, final=True), job(2, 2.0, 4.0, final=True)
    scheduler.push([first, second], position_s=4.0)
    assert scheduler.next_step(backlog_s=0.0) == Decode(first)
    step = scheduler.next_step(backlog_s=5.0)  # the first decode took five seconds
    assert isinstance(step, Skip) and step.dropped_s == pytest.approx(2.0)


def test_negative_limits_are_refused():
    with pytest.raises(ValueError):
        RecognitionScheduler(final_max_lag_s=-1.0)


def test_scheduler_is_sans_io():
    import balto.counter.ws.events as events
    import balto.counter.ws.protocol as protocol
    import balto.counter.ws.scheduler as scheduler

    for module in (events, protocol, scheduler):
        source = pathlib.Path(module.__file__).read_text(encoding="utf-8")
        assert "import trio" not in source, module.__name__


def windowed(**kwargs: object) -> RecognitionScheduler:
    return RecognitionScheduler(final_max_lag_s=30.0, window_overlap_s=1.0, **kwargs)  # type: ignore[arg-type]


def test_a_window_decodes_only_what_no_decode_covered_plus_the_overlap():
    scheduler = windowed()
    interim, final = job(1, 0.0, 3.0, final=False), job(1, 0.0, 5.0, final=True)
    scheduler.push([interim], position_s=3.0)
    (step,) = drain(scheduler)
    assert step == Decode(interim)  # nothing decoded yet: from the utterance's start
    scheduler.decoded(step.job)
    scheduler.push([final], position_s=5.0)
    (step,) = drain(scheduler)
    assert isinstance(step, Decode) and step.job.final
    assert step.job.start_s == pytest.approx(2.0) and step.job.end_s == 5.0
    assert len(step.job.audio) == 3 * 16_000


def test_with_whole_finals_only_the_interims_are_windowed():
    scheduler = windowed(whole_finals=True)
    first, second = job(1, 0.0, 3.0, final=False), job(1, 0.0, 6.0, final=False)
    scheduler.push([first], position_s=3.0)
    scheduler.decoded(drain(scheduler)[0].job)
    scheduler.push([second], position_s=6.0)
    (step,) = drain(scheduler)
    assert step.job.start_s == pytest.approx(2.0)  # the interim: its window
    scheduler.decoded(step.job)
    final = job(1, 0.0, 7.0, final=True)
    scheduler.push([final], position_s=7.0)
    assert drain(scheduler) == [Decode(final)]  # the final: the whole utterance


def test_a_decode_that_did_not_run_leaves_its_audio_to_the_next_job():
    scheduler = windowed()
    scheduler.push([job(1, 0.0, 3.0, final=False)], position_s=3.0)
    drain(scheduler)  # decoded() never called: failed, or superseded in the pool
    final = job(1, 0.0, 5.0, final=True)
    scheduler.push([final], position_s=5.0)
    assert drain(scheduler) == [Decode(final)]


def test_a_final_whose_speech_was_heard_is_covered_only_when_asked():
    for skip, expected in ((True, Covered), (False, Decode)):
        scheduler = windowed(skip_covered_finals=skip)
        scheduler.push([job(1, 0.0, 3.0, final=False)], position_s=3.0)
        scheduler.decoded(drain(scheduler)[0].job)
        final = dataclasses.replace(job(1, 0.0, 3.2, final=True), speech_end_s=2.7)
        scheduler.push([final], position_s=3.2)
        assert [type(s) for s in drain(scheduler)] == [expected]
    # the next utterance starts afresh
    scheduler.push([job(2, 4.0, 6.0, final=True)], position_s=6.0)
    (step,) = drain(scheduler)
    assert isinstance(step, Decode) and step.job.start_s == 4.0


def test_whole_utterance_decodes_cover_finals_too():
    # no window: the pause interim decoded the whole utterance, which the final would repeat
    scheduler = RecognitionScheduler(final_max_lag_s=30.0, skip_covered_finals=True)
    scheduler.push([job(1, 0.0, 3.0, final=False)], position_s=3.0)
    (step,) = drain(scheduler)
    assert isinstance(step, Decode) and step.job.start_s == 0.0
    scheduler.decoded(step.job)
    heard = dataclasses.replace(job(1, 0.0, 3.2, final=True), speech_end_s=2.7)
    scheduler.push([heard], position_s=3.2)
    assert drain(scheduler) == [Covered(heard)]
    # speech after the last decode: the final decodes the whole utterance, not a window
    scheduler.push([job(2, 4.0, 6.0, final=False)], position_s=6.0)
    scheduler.decoded(drain(scheduler)[0].job)
    later = dataclasses.replace(job(2, 4.0, 7.5, final=True), speech_end_s=7.0)
    scheduler.push([later], position_s=7.5)
    assert drain(scheduler) == [Decode(later)]


def test_covered_finals_can_be_switched_while_streaming():
    scheduler = RecognitionScheduler(final_max_lag_s=30.0)
    for skip, expected in ((False, Decode), (True, Covered), (False, Decode)):
        scheduler.skip_covered_finals = skip
        scheduler.push([job(1, 0.0, 3.0, final=False)], position_s=3.0)
        scheduler.decoded(drain(scheduler)[0].job)
        final = dataclasses.replace(job(1, 0.0, 3.2, final=True), speech_end_s=2.7)
        scheduler.push([final], position_s=3.2)
        assert [type(s) for s in drain(scheduler)] == [expected]


def test_a_negative_overlap_is_refused():
    with pytest.raises(ValueError, match="window_overlap_s"):
        RecognitionScheduler(final_max_lag_s=3.0, window_overlap_s=-1.0)
