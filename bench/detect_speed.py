"""Detector speed: ``python -m bench.detect_speed``.

Runs ``find_opportunities`` with the default rule set over ~20-word counter transcripts and
prints the best of 5 runs in microseconds per transcript, with the matcher's word cache warm
(words heard before: the common case, interim decodes repeat and counter vocabulary is small)
and cold (the cache cleared before every transcript: the worst case).
"""

from __future__ import annotations

import random
import time

from balto.counter.detect.detector import find_opportunities
from balto.counter.detect.loader import default_rules
from balto.counter.detect.rules import RuleSet

REPEATS = 5  # best of, the machine is shared
SENTENCES = (
    "bom dia moça tudo bem eu queria saber se vocês têm alguma coisa boa pra dor nas costas",
    "então eu tô com uma dor de cabeça muito forte desde ontem à noite e não passa de jeito nenhum",
    "quanto custa esse protetor solar fator cinquenta que tá ali na prateleira do lado do caixa",
    "meu filho tá com febre e tossindo muito a noite inteira acho que pegou uma gripe na escola",
    "vou pagar no cartão de débito pode colocar tudo numa sacola só por favor obrigada viu",
    "acho que comi demais no churrasco de domingo e agora tô com uma queimação no estômago",
)


def _run(rules: RuleSet, texts: list[str], *, cold: bool = False) -> float:
    matcher = rules.compiled.matcher
    start = time.perf_counter()
    for text in texts:
        if cold:
            matcher.clear_cache()
        find_opportunities(rules, text)
    return (time.perf_counter() - start) / len(texts) * 1e6


def main() -> None:
    rules = default_rules()
    rng = random.Random(7)
    vocabulary = sorted({w for s in SENTENCES for w in s.split()})
    texts = [" ".join(rng.sample(vocabulary, 20)) for _ in range(3_000)] + list(SENTENCES) * 300
    rng.shuffle(texts)
    words = sum(len(t.split()) for t in texts) / len(texts)
    print(f"rule set: {len(rules)} rules, {len(rules.compiled.matcher.phrases)} phrases")
    _run(rules, texts[:200])
    warm = min(_run(rules, texts) for _ in range(REPEATS))
    print(f"{words:.0f} words/transcript, words seen before: {warm:.0f} µs/transcript")
    cold = min(_run(rules, texts[:1_000], cold=True) for _ in range(REPEATS))
    print(f"{words:.0f} words/transcript, every word new: {cold:.0f} µs/transcript")
    t0 = time.perf_counter()
    RuleSet(rules.rules)
    print(f"compiling the rule set: {(time.perf_counter() - t0) * 1e3:.1f} ms")


if __name__ == "__main__":
    main()
