"""Trio shell for the sans-IO Socket.IO server, plugged into Balto's h11 HTTP core."""

from balto.sio.shell import SocketIOShell, cors_headers

__all__ = ["SocketIOShell", "cors_headers"]
