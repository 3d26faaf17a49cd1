"""The browser counter's files at ``/balcao``: the package's ``static/`` folder as a
:class:`~balto.core.http.static.StaticSite`, the one page of Balto allowed the microphone.

Everything is plain HTML, CSS and JavaScript written for Balto (no third-party code); the
page streams to ``/ws`` like any counter (same origin, so ``connect-src 'self'`` covers it).
"""

from __future__ import annotations

from collections.abc import Mapping
from importlib.resources import files

from balto.core.http.static import StaticSite, load_files

FILE_NOT_FOUND = "Arquivo do balcão não encontrado"
ALLOWED_FEATURES = ("microphone",)


class BalcaoSite(StaticSite):
    """``static`` defaults to the package's own ``static/`` folder."""

    def __init__(self, static: Mapping[str, bytes] | None = None) -> None:
        found = (
            static
            if static is not None
            else load_files(files("balto.counter.balcao").joinpath("static"))
        )
        super().__init__("/balcao", found, not_found=FILE_NOT_FOUND, allow=ALLOWED_FEATURES)
