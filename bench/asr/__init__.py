"""Recognition cost per audio second, side by side: ``python -m bench.asr [--quick]``.

Configurations (all on OpenAI's multilingual Whisper *base*, the same weights, 2 threads, the
rule-vocabulary prompt, language "pt"):

- ``balto``: our pipeline, ``WhisperTranscriber(tuned=True)`` on the f16 ggml model;
- ``whispercpp-default``: plain whisper.cpp settings (30 s window, timestamps, temperature
  fallback), ``tuned=False``;
- ``balto-q8_0``: our pipeline on a q8_0 ggml model (converted once into the model cache);
- ``faster-whisper-int8`` / ``faster-whisper-f32``: faster-whisper (CTranslate2) on a model
  directory assembled from the same PyPI wheels, greedy, no timestamps, no VAD;
- ``balto-native``: our pipeline on pywhispercpp built for this CPU by
  ``native/build_whispercpp.sh`` (skipped, with a hint, when that build is absent).

Every configuration runs in its own worker process (``bench/asr/worker.py``) with the model
loaded once. Utterances are interleaved A/B: for each utterance every configuration runs once,
in an order rotated from utterance to utterance, for two rounds, so slow drift in the machine's
load spreads over all rows. Compute is measured inside the worker: wall clock and process CPU
time (all threads). Transcripts are scored against the reference text (word error rate after
lowercasing and stripping accents and punctuation) so speed is not bought with garbage.

Writes ``bench/results/asr.json`` and prints a Markdown table: totals per audio second, ratios
to ``balto`` (above 1 = costlier than our pipeline), and the same from each utterance's fastest
round ("best-round", steadier when other work bursts onto the cores). About 5 minutes on an
idle 2-core machine (``--quick``: under a minute). Run it on an idle machine: other processes
inflate wall clock and, through OpenMP threads spinning at barriers, CPU time too; the JSON
records how many cores the rest of the machine used meanwhile.

Modules: ``settings`` (paths, utterances, configurations), ``wer`` (word error rate),
``machine`` (CPU and load), ``models`` (the weights each configuration loads), ``workers`` (the
worker processes), ``run`` (the measurement), ``report`` (table and JSON), ``cli``.
"""

from bench.asr.cli import main
from bench.asr.models import vocabulary_from_tokenizer
from bench.asr.report import format_table, save
from bench.asr.run import _rotation, run
from bench.asr.settings import CONFIG_NAMES, CONFIGS, QUICK_IDS, UTTERANCES
from bench.asr.wer import normalize_words, word_errors

__all__ = [
    "CONFIGS",
    "CONFIG_NAMES",
    "QUICK_IDS",
    "UTTERANCES",
    "_rotation",
    "format_table",
    "main",
    "normalize_words",
    "run",
    "save",
    "vocabulary_from_tokenizer",
    "word_errors",
]
