"""The panel's files at ``/painel``: the package's ``static/`` folder as a
:class:`~balto.core.http.static.StaticSite` (its headers, caching and routes live there).

Everything is plain HTML, CSS and JavaScript written for Balto (no third-party code).
"""

from __future__ import annotations

from collections.abc import Mapping
from importlib.resources import files

from balto.core.http.static import (
    CONTENT_SECURITY_POLICY,
    StaticSite,
    content_type,
    load_files,
)
from balto.core.http.static import StaticFileMissing as PanelFileMissing

__all__ = [
    "CONTENT_SECURITY_POLICY",
    "FILE_NOT_FOUND",
    "PanelFileMissing",
    "PanelSite",
    "content_type",
    "load_files",
]

FILE_NOT_FOUND = "Arquivo do painel não encontrado"


class PanelSite(StaticSite):
    """``static`` defaults to the package's own ``static/`` folder."""

    def __init__(self, static: Mapping[str, bytes] | None = None) -> None:
        found = (
            static
            if static is not None
            else load_files(files("balto.counter.panel").joinpath("static"))
        )
        super().__init__("/painel", found, not_found=FILE_NOT_FOUND)
