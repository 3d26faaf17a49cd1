"""Server benchmark: the real ``balto serve`` (real whisper.cpp) under counters over loopback.

Parts (``balto serve`` subprocesses on free loopback ports with temp databases; latency and
capacity share one server, growth and idle get their own):

* ``latency``  — end of speech → ``recomendar`` delay (p50/p95/max), misses and false
  recommendations, server CPU/RSS and the whisper queue lag, for 1, 2, 4 and 8 counters
  streaming in real time; the load model (:mod:`bench.server.dialogue`): a customer and an
  attendant taking turns in two natural voices, speech a third of the stream, shop noise at
  20 dB SNR (``--voz robo``: the old espeak-ng loop, 1–3 s gaps, 30 dB);
* ``growth``   — one longer run (default 3 min, 4 counters): delay and RSS per minute, and
  whether either trends upwards;
* ``capacity`` — the most real-time counters this machine holds with p95 ≤ 1.5 s and no speech
  dropped (climbs 4, 8, 12, 16…, stops at the first failure, then bisects); p50/p95 against
  counters go to ``bench/results/latencia.png`` (``plot``, with matplotlib);
* ``idle``     — server memory per authenticated idle socket, with 1,000 of them open
  (``MAX_CONNECTIONS_PER_ADDRESS`` raised for it, open-file limit raised for both sides).

Run ``python -m bench.server`` (``--help`` for the knobs). Markdown goes to stdout, JSON to
``bench/results/server.json``. Timings depend on how busy the machine is: the JSON records the
load average before and after.

The server runs with ``RECOMMENDATION_COOLDOWN_S=10`` (default 60): each counter repeats its
loop of complaints every ~2 min (~45 s for the robot loop), one complaint per rule per loop,
and one recommendation per complaint is what is measured; 10 s still covers the interim and
final decodes of one utterance.

Modules: ``settings``; the server under test (``process``, ``probes``); the load (``audio``,
``dialogue``, ``clients``, on :mod:`bench.counters`); one run (``measure``); the parts
(``capacity`` for latency and capacity, ``growth``, ``idle``); ``runner``, ``markdown``,
``plot``, ``cli``.
"""

from bench.server.cli import build_parser, main, settings_from_args
from bench.server.markdown import markdown, write_json
from bench.server.runner import run
from bench.server.settings import PARTS, RESULTS_FILE, BenchSettings

__all__ = [
    "PARTS",
    "RESULTS_FILE",
    "BenchSettings",
    "build_parser",
    "main",
    "markdown",
    "run",
    "settings_from_args",
    "write_json",
]
