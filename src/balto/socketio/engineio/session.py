"""The Engine.IO v4 server session state machine (sans-IO).

One :class:`EngineSession` per client. It never touches a socket or a clock: the shell passes
``now`` (a monotonic time in seconds) and performs the I/O the session asks for.

Output model: one outbound queue shared by both transports, so nothing is lost or reordered
during the polling → WebSocket upgrade. Writers *pull* from it:

* a polling GET calls :meth:`begin_get`; ``None`` means "park the request", then the shell calls
  :meth:`poll_get` each time the session has news until it returns a body (or
  :meth:`cancel_get` if the HTTP client went away);
* a WebSocket writer calls :meth:`take_ws_output` whenever the session has news, sends the
  frames and closes the socket when told to.

"News" is not a callback: the session raises a flag, and its owner reads (and clears) it with
:meth:`take_wakeup` after each call, then tells the shell whom to wake.

Input methods return the :mod:`events <balto.socketio.engineio.events>` to act on. A protocol
violation updates the state first (the session closes, or the upgrade is aborted) and then
raises a plain :class:`EngineProtocolError` that carries nothing to process. Timers: sleep until
:meth:`next_deadline`, then call :meth:`on_timer`. The state is three machines, each one
transition table in :mod:`balto.socketio.engineio.state`.
"""

from __future__ import annotations

from collections import deque

from balto.core.errors import PayloadTooLarge
from balto.socketio.engineio.events import (
    Closed,
    CloseReason,
    EngineConfig,
    Event,
    MessageReceived,
    Transport,
    UpgradeAborted,
    Upgraded,
    WsOutput,
)
from balto.socketio.engineio.packets import (
    Packet,
    PacketType,
    decode_frame,
    decode_payload,
    encode_frame,
    encode_payload,
    open_packet,
    take_batch,
)
from balto.socketio.engineio.state import (
    HEARTBEAT_TRANSITIONS,
    POLL_TRANSITIONS,
    UPGRADE_TRANSITIONS,
    Heartbeat,
    HeartbeatInput,
    LocalProtocolError,
    Machine,
    Poll,
    PollInput,
    Upgrade,
    UpgradeInput,
)
from balto.socketio.errors import EngineProtocolError

__all__ = ["EngineSession"]

_NOOP_BODY = encode_payload([Packet(PacketType.NOOP)])
_CLOSE_BODY = encode_payload([Packet(PacketType.CLOSE)])


class EngineSession:
    """Server side of one Engine.IO connection.

    :meth:`take_wakeup` is true once a parked GET or the WebSocket writer may have something
    new to do since the last call: output queued, upgrade progress, close.
    """

    def __init__(
        self,
        sid: str,
        transport: Transport,
        now: float,
        config: EngineConfig | None = None,
    ) -> None:
        self.sid = sid
        self.config = config or EngineConfig()
        self._woken = False
        self._queue: deque[Packet] = deque()  # shared by both transports: nothing reorders
        self._ws_out: list[str | bytes] = []  # upgrade handshake frames, before the queue
        initial = Upgrade.ACTIVE if transport is Transport.WEBSOCKET else Upgrade.NONE
        self._upgrade = Machine("upgrade", UPGRADE_TRANSITIONS, initial)
        self._poll = Machine("poll", POLL_TRANSITIONS, Poll.IDLE)
        self._heartbeat = Machine("heartbeat", HEARTBEAT_TRANSITIONS, Heartbeat.WAITING)
        self._deadline = now + self.config.ping_interval  # meaning: see self._heartbeat
        self._close_reason: CloseReason | None = None
        upgrades = ["websocket"] if transport is Transport.POLLING else []
        self._queue.append(open_packet(sid, upgrades, self.config))

    # ----------------------------------------------------------------- state
    @property
    def transport(self) -> Transport:
        active = self._upgrade.state is Upgrade.ACTIVE
        return Transport.WEBSOCKET if active else Transport.POLLING

    @property
    def upgrading(self) -> bool:
        return self._upgrade.state in (Upgrade.PROBING, Upgrade.PROBED)

    @property
    def has_websocket(self) -> bool:
        """A WebSocket already carries the session or is upgrading it: another one must be
        accepted and closed at once, as the reference server does."""
        return self._upgrade.state in (Upgrade.PROBING, Upgrade.PROBED, Upgrade.ACTIVE)

    @property
    def closed(self) -> bool:
        return self._heartbeat.state is Heartbeat.CLOSED

    @property
    def close_reason(self) -> CloseReason | None:
        return self._close_reason

    @property
    def has_output(self) -> bool:
        return bool(self._queue or self._ws_out)

    def take_wakeup(self) -> bool:
        """Whether the session has news for its GET or WebSocket writer since the last call."""
        woken, self._woken = self._woken, False
        return woken

    def _wakeup(self) -> None:
        self._woken = True

    def discardable(self, now: float) -> bool:
        """True once the session is closed and its last packets were flushed or abandoned
        (a session closed by the server with output still queued lingers ``ping_timeout``
        seconds so that a late GET still gets it and ``1``)."""
        return self.closed and (not self.has_output or now >= self._deadline)

    # ----------------------------------------------------------------- output
    def send_message(self, data: str | bytes) -> None:
        """Queue a message for the client. Silently dropped once the session is closed."""
        if not self.closed:
            self._push(Packet(PacketType.MESSAGE, data))

    def close(self, now: float, reason: CloseReason = CloseReason.SERVER_DISCONNECT) -> list[Event]:
        """Close the session; a close packet is queued unless the transport is already gone."""
        if self.closed:
            return []
        self._heartbeat.fire(HeartbeatInput.CLOSE)
        self._close_reason = reason
        self._deadline = now + self.config.ping_timeout  # linger
        client_gone = reason in (CloseReason.CLIENT_DISCONNECT, CloseReason.TRANSPORT_CLOSE)
        orderly = reason is CloseReason.SERVER_DISCONNECT
        if orderly or (self.transport is Transport.WEBSOCKET and not client_gone):
            self._queue.append(Packet(PacketType.CLOSE))  # what is queued goes first
        else:
            # Like the reference server: the write buffer is dropped, and a parked GET is
            # released with a noop when the client closed (polling onClose), with a close
            # packet on a timeout or an error (doClose while writable). With nothing parked
            # the session is forgotten at once: its next request is a 400 (unknown sid).
            self._queue.clear()
            self._ws_out.clear()
            if self._poll.state is Poll.PARKED:
                self._queue.append(Packet(PacketType.NOOP if client_gone else PacketType.CLOSE))
        self._wakeup()
        return [Closed(reason)]

    def _push(self, packet: Packet) -> None:
        self._queue.append(packet)
        self._wakeup()

    # ----------------------------------------------------------------- polling
    def begin_get(self, now: float) -> bytes | None:
        """A long-polling GET arrived. Returns the response body, or ``None``: park the request
        and call :meth:`poll_get` after each wakeup. A second GET while one is parked closes the
        session (transport error) and raises; the parked one is then answered with ``1``."""
        self._check_http_allowed()
        if not self._poll.allows(PollInput.GET):
            self.close(now, CloseReason.TRANSPORT_ERROR)
            raise EngineProtocolError("overlapping GET requests")
        self._poll.fire(PollInput.GET)
        return self.poll_get()

    def poll_get(self) -> bytes | None:
        """Body for the parked GET if it can be answered now, else ``None`` (keep waiting).
        Raises :class:`LocalProtocolError` (a ``RuntimeError``) when no GET is parked."""
        if not self._poll.allows(PollInput.ANSWER):
            raise LocalProtocolError("poll_get() without a pending GET")
        upgrade = self._upgrade.state
        if upgrade is Upgrade.ACTIVE or (upgrade is Upgrade.PROBED and not self.closed):
            body = _NOOP_BODY  # the client is moving to the WebSocket: release its poll
        elif self._queue:
            body = encode_payload(take_batch(self._queue, self.config.max_payload))
        elif self.closed:
            body = _CLOSE_BODY
        else:
            return None
        self._poll.fire(PollInput.ANSWER)
        return body

    def cancel_get(self) -> None:
        """The parked GET's HTTP exchange ended without a body (client gone, shell shutdown)."""
        self._poll.fire(PollInput.CANCEL)

    def receive_post(self, body: bytes, now: float) -> list[Event]:
        """Packets POSTed by a polling client. Raises :class:`PayloadTooLarge` (413) or
        :class:`EngineProtocolError` (400); both close the session first (the client's
        transport fails on either, as python-engineio's server closes it too)."""
        self._check_http_allowed()
        if self._close_reason is not None:
            raise EngineProtocolError("session is closed")
        if len(body) > self.config.max_payload:
            self.close(now, CloseReason.TRANSPORT_ERROR)
            raise PayloadTooLarge("payload exceeds maxPayload")
        try:
            packets = decode_payload(body)
        except EngineProtocolError:
            self.close(now, CloseReason.TRANSPORT_ERROR)
            raise
        events: list[Event] = []
        for packet in packets:
            events.extend(self._receive(packet, now))
            if self.closed:
                break
        return events

    def _check_http_allowed(self) -> None:
        if self._upgrade.state is Upgrade.ACTIVE:
            raise EngineProtocolError("Unexpected HTTP request")

    # ----------------------------------------------------------------- websocket
    def begin_upgrade(self) -> None:
        """A WebSocket (``transport=websocket``) arrived for this polling session. Then feed its
        frames to :meth:`receive_ws_frame` and run a writer on :meth:`take_ws_output`."""
        if self.closed:
            raise EngineProtocolError("session is closed")
        if not self._upgrade.allows(UpgradeInput.BEGIN):
            raise EngineProtocolError("session already upgraded or upgrading")
        self._upgrade.fire(UpgradeInput.BEGIN)
        self._ws_out.clear()

    def receive_ws_frame(self, frame: str | bytes, now: float) -> list[Event]:
        """One frame from the WebSocket. Malformed frames raise :class:`EngineProtocolError`
        (close the WebSocket; if it was the session's transport, the session closes too)."""
        upgrade = self._upgrade.state
        if upgrade in (Upgrade.NONE, Upgrade.ABORTED) or self.closed:
            return []  # a late frame from an aborted upgrade, or after close
        try:
            packet = decode_frame(frame, self.config.max_payload)
        except EngineProtocolError:
            if upgrade is Upgrade.ACTIVE:
                self.close(now, CloseReason.TRANSPORT_ERROR)
            else:
                self._abort_upgrade()
            raise
        if upgrade is Upgrade.ACTIVE:
            return self._receive(packet, now)
        if upgrade is Upgrade.PROBING and packet == Packet(PacketType.PING, "probe"):
            self._upgrade.fire(UpgradeInput.PROBE)
            self._ws_out.append(encode_frame(Packet(PacketType.PONG, "probe")))
            self._wakeup()
            return []
        if upgrade is Upgrade.PROBED and packet.type is PacketType.UPGRADE:
            self._upgrade.fire(UpgradeInput.CONFIRM)
            self._wakeup()
            return [Upgraded()]
        return self._abort_upgrade()

    def websocket_closed(self, now: float) -> list[Event]:
        """The WebSocket is gone (peer closed it or it failed)."""
        if self._upgrade.state is Upgrade.ACTIVE:
            return self.close(now, CloseReason.TRANSPORT_CLOSE)
        if not self._upgrade.allows(UpgradeInput.SOCKET_GONE):
            return []
        self._upgrade.fire(UpgradeInput.SOCKET_GONE)
        self._ws_out.clear()
        self._wakeup()
        return [UpgradeAborted()]

    def _abort_upgrade(self) -> list[Event]:
        self._upgrade.fire(UpgradeInput.ABORT)
        self._ws_out.clear()
        self._wakeup()
        return [UpgradeAborted()]

    def take_ws_output(self) -> WsOutput:
        """Frames the WebSocket writer must send now, and whether to close the socket after."""
        frames, self._ws_out = self._ws_out, []
        upgrade = self._upgrade.state
        if upgrade is Upgrade.ACTIVE:
            frames.extend(encode_frame(p) for p in self._queue)
            self._queue.clear()
            return WsOutput(frames, close=self.closed)
        return WsOutput(frames, close=upgrade is Upgrade.ABORTED or self.closed)

    # ----------------------------------------------------------------- packets & timers
    def _receive(self, packet: Packet, now: float) -> list[Event]:
        kind = packet.type
        if kind is PacketType.MESSAGE:
            return [MessageReceived(packet.data)]
        if kind is PacketType.PONG:
            self._heartbeat.fire(HeartbeatInput.PONG)
            self._deadline = now + self.config.ping_interval
        elif kind is PacketType.PING:
            self._push(Packet(PacketType.PONG, packet.data))
        elif kind is PacketType.CLOSE:
            return self.close(now, CloseReason.CLIENT_DISCONNECT)
        # OPEN, UPGRADE (outside an upgrade) and NOOP are ignored, like the reference servers.
        return []

    def next_deadline(self) -> float | None:
        """When :meth:`on_timer` must next be called; once closed, when the session may be
        forgotten (see :meth:`discardable`)."""
        return self._deadline

    def on_timer(self, now: float) -> list[Event]:
        """Send the due ping, or close the session if the pong is overdue."""
        if now < self._deadline:
            return []
        state = self._heartbeat.state
        if state is Heartbeat.PINGED:
            return self.close(now, CloseReason.PING_TIMEOUT)
        if state is Heartbeat.WAITING:
            self._heartbeat.fire(HeartbeatInput.PING_SENT)
            self._deadline = now + self.config.ping_timeout
            self._push(Packet(PacketType.PING))
        return []
