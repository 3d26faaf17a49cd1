"""A scripted classifier double: fast, deterministic, optionally gated or failing."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

from balto.partnumber.classify.models import Candidate, Classification, ClassifyRequest, Progress

STEPS = ("Normalizando o partnumber", "Consultando o catálogo", "Classificando a descrição")
BEST = Candidate("8471.30", "Máquinas automáticas portáteis para processamento de dados", 0.91)
OTHER = Candidate("8471.41", "Outras máquinas automáticas para processamento de dados", 0.42)


class ScriptedClassifier:
    """Reports ``steps`` in order. With ``gate`` set, it blocks after the first step until the
    test sets the gate; with ``error``, it raises it after the steps."""

    def __init__(self, steps: Sequence[str] = STEPS) -> None:
        self.steps = list(steps)
        self.gate: threading.Event | None = None
        self.error: BaseException | None = None
        self.requests: list[ClassifyRequest] = []

    def classify(
        self, request: ClassifyRequest, progress: Callable[[Progress], None]
    ) -> Classification:
        self.requests.append(request)
        for number, message in enumerate(self.steps, 1):
            progress(Progress(number, len(self.steps), message))
            if number == 1 and self.gate is not None and not self.gate.wait(timeout=10):
                raise TimeoutError("the test never opened the gate")
        if self.error is not None:
            raise self.error
        return Classification(
            partnumber=request.partnumber,
            description=request.description or "Notebook 14 polegadas",
            classification=BEST,
            candidates=[BEST, OTHER],
            confidence=0.91,
            source="modelo",
            message="Classificado pela descrição",
        )
