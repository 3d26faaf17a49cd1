"""What a counter's open utterance has been heard to say, from its decodes. Sans-IO.

A decode from the utterance's start (an interim or final of a whole-utterance policy) replaces
what was heard before it; a windowed decode (:mod:`balto.counter.ws.scheduler`, with
``window_overlap_s``) carries only the audio no decode covered plus an overlap, so it continues
the text, less the words its overlap repeats (:func:`merge_words`). The detector reads the
utterance's text so far, not the last window alone: a complaint whose words fall on both sides
of a window's start ("tô com uma dor" | "nas costas"), or a negation heard by the window before
("não estou com" | "febre"), is read whole.

Only the newest utterance is kept: a counter's utterances come one after the other, so a job of
a newer one means the older one is over (its final decoded, skipped or covered).
"""

from __future__ import annotations

from balto.counter.audio.segmenter import DecodeJob
from balto.counter.detect.normalize import fold


class UtteranceTranscript:
    def __init__(self) -> None:
        self._utterance: int | None = None
        self._start_s = 0.0
        self._text = ""

    def heard(self, job: DecodeJob, text: str) -> str:
        """``job`` decoded to ``text``: the utterance's text so far (for the detector)."""
        if self._utterance != job.utterance_id or job.start_s <= self._start_s:
            self._utterance, self._start_s, self._text = job.utterance_id, job.start_s, text
        else:
            self._text = merge_words(self._text, text)
        heard = self._text
        if job.final:
            self._utterance, self._text = None, ""
        return heard


def merge_words(before: str, after: str, *, most: int = 8) -> str:
    """``before`` continued by ``after``, less the longest run of words (up to ``most``) that
    ends ``before`` and starts ``after`` again (compared case- and accent-blind)."""
    head, tail = before.split(), after.split()
    keys_head = [_word_key(w) for w in head]
    keys_tail = [_word_key(w) for w in tail]
    for size in range(min(most, len(head), len(tail)), 0, -1):
        if keys_head[-size:] == keys_tail[:size]:
            return " ".join(head + tail[size:])
    return " ".join(head + tail)


def _word_key(word: str) -> str:
    return "".join(ch for ch in fold(word) if ch.isalnum())
