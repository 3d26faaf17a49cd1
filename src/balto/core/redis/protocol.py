"""RESP (the Redis serialization protocol), sans-IO: commands to bytes, bytes to replies.

:func:`encode_command` writes a command as a RESP array of bulk strings. :class:`RespParser`
takes whatever bytes arrived (:meth:`~RespParser.feed`, in chunks split anywhere) and hands back
each complete reply (:meth:`~RespParser.next_reply`). RESP2 and the RESP3 types are read:

* simple string ``+`` → ``str``; bulk string ``$`` and verbatim ``=`` → ``bytes``;
* integer ``:`` and big number ``(`` → ``int``; double ``,`` → ``float``; boolean ``#`` → ``bool``;
* null ``_``, null bulk ``$-1`` and null array ``*-1`` → ``None``;
* array ``*``, set ``~`` and push ``>`` → ``list``; map ``%`` and attribute ``|`` → ``dict``
  (an attribute is read and dropped: it only annotates the reply that follows it);
* error ``-`` and blob error ``!`` → a :class:`ReplyError` *value* (an error reply is an answer,
  not a broken stream: the caller raises it), nested ones included.

Malformed input raises :class:`ProtocolError`: the connection cannot be trusted any more.
Nothing here does I/O.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "MAX_BULK_BYTES",
    "MAX_ELEMENTS",
    "NEED_DATA",
    "ProtocolError",
    "ReplyError",
    "RespParser",
    "encode_command",
]

MAX_BULK_BYTES = 512 * 1024 * 1024  # Redis's own proto-max-bulk-len default
MAX_ELEMENTS = 1 << 24  # elements in one aggregate: more is a broken stream, not a reply
MAX_LINE_BYTES = 64 * 1024  # a type line (+OK, :42, $5 ...) longer than this is garbage


class _NeedData:
    def __repr__(self) -> str:
        return "NEED_DATA"


#: What :meth:`RespParser.next_reply` returns while no whole reply has arrived yet.
NEED_DATA: Any = _NeedData()
_OPENED: Any = _NeedData()  # an aggregate header was read: its elements follow


class ProtocolError(Exception):
    """The bytes are not RESP: the connection is unusable."""


class ReplyError(Exception):
    """An error reply (``-ERR ...``): ``code`` is its first word (``ERR``, ``WRONGTYPE``,
    ``NOSCRIPT``, ``BUSYGROUP``...)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
        self.code = message.split(" ", 1)[0] if message else ""

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ReplyError) and other.message == self.message

    def __hash__(self) -> int:
        return hash(self.message)


def _bulk(arg: bytes | str | int | float) -> bytes:
    if isinstance(arg, bytes):
        data = arg
    elif isinstance(arg, str):
        data = arg.encode()
    elif isinstance(arg, bool):
        raise TypeError("a bool is not a Redis argument: send 0/1 or a string")
    elif isinstance(arg, (int, float)):
        data = repr(arg).encode()
    else:
        raise TypeError(f"not a Redis argument: {type(arg).__name__}")
    return b"$%d\r\n%s\r\n" % (len(data), data)


def encode_command(*args: bytes | str | int | float) -> bytes:
    """``SET k v EX 10`` as the bytes to send: an array of bulk strings."""
    if not args:
        raise ValueError("an empty command")
    return b"*%d\r\n" % len(args) + b"".join(_bulk(arg) for arg in args)


_AGGREGATES = {ord("*"), ord("~"), ord(">"), ord("%"), ord("|")}


class _Frame:
    """An aggregate being filled: ``items`` so far out of ``length`` elements."""

    __slots__ = ("items", "kind", "length")

    def __init__(self, kind: int, length: int) -> None:
        self.kind = kind
        self.length = length
        self.items: list[Any] = []


class RespParser:
    """Incremental RESP reader (see module doc). ``feed`` bytes, then call ``next_reply`` until
    it returns :data:`NEED_DATA`."""

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._pos = 0
        self._stack: list[_Frame] = []

    def feed(self, data: bytes) -> None:
        if self._pos:
            del self._buffer[: self._pos]
            self._pos = 0
        self._buffer += data

    def next_reply(self) -> Any:
        """The next complete reply, or :data:`NEED_DATA`."""
        while True:
            value = self._read_value()
            if value is NEED_DATA:
                return NEED_DATA
            if value is _OPENED:
                continue
            reply = self._complete(value)
            if reply is not NEED_DATA:
                return reply

    def _complete(self, value: Any) -> Any:
        """Add ``value`` to the open aggregates; the top-level reply once one is whole."""
        while self._stack:
            frame = self._stack[-1]
            frame.items.append(value)
            if len(frame.items) < frame.length:
                return NEED_DATA
            self._stack.pop()
            value = self._finish(frame)
            if value is NEED_DATA:  # an attribute: dropped, the next value is the reply
                return NEED_DATA
        return value

    @staticmethod
    def _finish(frame: _Frame) -> Any:
        if frame.kind in (ord("%"), ord("|")):
            items = frame.items
            pairs = {_key(items[i]): items[i + 1] for i in range(0, len(items), 2)}
            return NEED_DATA if frame.kind == ord("|") else pairs
        return frame.items

    def _line(self) -> bytes | None:
        end = self._buffer.find(b"\r\n", self._pos)
        if end < 0:
            if len(self._buffer) - self._pos > MAX_LINE_BYTES:
                raise ProtocolError("a RESP line with no end")
            return None
        line = bytes(self._buffer[self._pos : end])
        self._pos = end + 2
        return line

    def _read_value(self) -> Any:
        """One scalar value, or an aggregate's header (pushed on the stack: ``_OPENED``; an
        empty aggregate is returned whole)."""
        start = self._pos
        line = self._line()
        if line is None:
            return NEED_DATA
        if not line:
            raise ProtocolError("an empty RESP line")
        kind, rest = line[0], line[1:]
        if kind in (ord("$"), ord("="), ord("!")):
            value = self._read_blob(kind, rest)
            if value is NEED_DATA:
                self._pos = start  # read the header again once the body is here
            return value
        if kind in _AGGREGATES:
            length = _integer(rest)
            if length < 0:
                if kind != ord("*"):
                    raise ProtocolError("a negative aggregate length")
                return None
            count = length * 2 if kind in (ord("%"), ord("|")) else length
            if count > MAX_ELEMENTS:
                raise ProtocolError("an aggregate too large")
            frame = _Frame(kind, count)
            if count == 0:
                return self._finish(frame)
            self._stack.append(frame)
            return _OPENED
        return _scalar(kind, rest)

    def _read_blob(self, kind: int, rest: bytes) -> Any:
        length = _integer(rest)
        if length < 0:
            if kind != ord("$"):
                raise ProtocolError("a negative blob length")
            return None
        if length > MAX_BULK_BYTES:
            raise ProtocolError("a bulk string too large")
        end = self._pos + length
        if len(self._buffer) < end + 2:
            return NEED_DATA
        if self._buffer[end : end + 2] != b"\r\n":
            raise ProtocolError("a bulk string without its CRLF")
        data = bytes(self._buffer[self._pos : end])
        self._pos = end + 2
        if kind == ord("!"):
            return ReplyError(data.decode(errors="replace"))
        if kind == ord("="):  # verbatim: "txt:" + the text
            if len(data) < 4 or data[3:4] != b":":
                raise ProtocolError("a verbatim string without its format")
            return data[4:]
        return data


def _key(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value  # hashable


def _integer(raw: bytes) -> int:
    try:
        return int(raw)
    except ValueError:
        raise ProtocolError(f"not a RESP integer: {raw[:40]!r}") from None


def _scalar(kind: int, rest: bytes) -> Any:
    if kind == ord("+"):
        return rest.decode(errors="replace")
    if kind == ord("-"):
        return ReplyError(rest.decode(errors="replace"))
    if kind in (ord(":"), ord("(")):
        return _integer(rest)
    if kind == ord("_"):
        if rest:
            raise ProtocolError("a RESP3 null with a body")
        return None
    if kind == ord("#"):
        if rest not in (b"t", b"f"):
            raise ProtocolError(f"not a RESP boolean: {rest[:10]!r}")
        return rest == b"t"
    if kind == ord(","):
        try:
            return float(rest)
        except ValueError:
            raise ProtocolError(f"not a RESP double: {rest[:40]!r}") from None
    raise ProtocolError(f"unknown RESP type byte {bytes([kind])!r}")
