"""The recognition-quality report: ``python -m bench.quality`` (``make quality``).

Three measurements, each in its own module, results in ``bench/results/quality.{json,md}``:

* :mod:`bench.quality.real`: word error rate on the real Brazilian Portuguese recordings of
  ``../shared/speech/real`` (CETUC scored apart), clean and with shop noise at 20/10/5 dB SNR,
  with the recognition cost per audio second;
* :mod:`bench.quality.labelled`: opportunity recall and precision per rule on the project's
  labelled counter sentences and dialogues (``bench/data/frases_balcao.tsv``) spoken by the
  natural voices in a simulated counter room, for the tuning part and the reserved part apart;
* :mod:`bench.quality.stream`: false recommendations per hour of real neutral speech, streamed
  in real time through a running server as counters would.
"""
