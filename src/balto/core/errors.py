"""The error hierarchy.

Every failure that crosses a module boundary is one of these types. ``ClientError`` means the
peer sent something we refuse (it maps to a 4xx status or an ``erro`` message on the socket);
``ServerFault`` means we could not do our part (5xx, or "no recommendation" for audio). Foreign
exceptions are converted where they enter our code, never swallowed.
"""

from __future__ import annotations


class BaltoError(Exception):
    """Base of every error this package raises on purpose."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ClientError(BaltoError):
    """The peer's request is wrong. ``status`` is the HTTP status it maps to."""

    status: int = 400

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        if status is not None:
            self.status = status


class BadRequest(ClientError):
    status = 400


class Unauthorized(ClientError):
    status = 401


class Forbidden(ClientError):
    """Authenticated, but this request may not do that (a missing CSRF token, a foreign
    Origin)."""

    status = 403


class NotFound(ClientError):
    status = 404


class MethodNotAllowed(ClientError):
    status = 405

    def __init__(self, message: str, *, allowed: tuple[str, ...]) -> None:
        super().__init__(message)
        self.allowed = allowed


class Conflict(ClientError):
    status = 409


class PreconditionFailed(ClientError):
    """The resource changed since the version the request names (``If-Match``)."""

    status = 412


class PayloadTooLarge(ClientError):
    status = 413


class UnsupportedMediaType(ClientError):
    status = 415


class TooManyRequests(ClientError):
    status = 429

    def __init__(self, message: str, *, retry_after_s: int) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class ServerFault(BaltoError):
    """We failed. ``status`` is the HTTP status it maps to."""

    status: int = 500


class ServiceUnavailable(ServerFault):
    """Over capacity for now; the client may retry later."""

    status = 503


class StorageError(ServerFault):
    status = 503


class RecognizerError(ServerFault):
    status = 503


class ModelError(ServerFault):
    """The speech model could not be found, converted or loaded."""
