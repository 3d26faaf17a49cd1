"""Property: whatever the interleaving, every message is delivered once and in order across the
polling → WebSocket upgrade, and the WebSocket never carries a noop."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from balto.socketio.engineio import EngineConfig, EngineSession, PacketType, Transport
from balto.socketio.engineio.packets import decode_frame, decode_payload

OPS = st.lists(st.sampled_from(["send", "send_bin", "get", "ws", "ws_step", "timer"]), max_size=40)


@given(OPS, st.integers(min_value=20, max_value=200))
def test_upgrade_preserves_order(ops: list[str], max_payload: int) -> None:
    session = EngineSession("s", Transport.POLLING, 0.0, EngineConfig(max_payload=max_payload))
    sent: list[str | bytes] = []
    received: list[str | bytes] = []
    parked = False
    steps = iter(["2probe", "5"])
    now = 0.0

    def collect_body(body: bytes) -> None:
        for packet in decode_payload(body):
            if packet.type is PacketType.MESSAGE:
                received.append(packet.data)

    def collect_ws() -> None:
        for frame in session.take_ws_output().frames:
            packet = decode_frame(frame)
            assert packet.type is not PacketType.NOOP
            if packet.type is PacketType.MESSAGE:
                received.append(packet.data)

    for op in ops:
        now += 1.0
        if op in ("send", "send_bin"):
            data: str | bytes = f"m{len(sent)}" if op == "send" else bytes([len(sent) % 256])
            sent.append(data)
            session.send_message(data)
        elif op == "get" and session.transport is Transport.POLLING:
            body = session.poll_get() if parked else session.begin_get(now)
            parked = body is None
            if body is not None:
                collect_body(body)
        elif op == "ws" and not session.upgrading and session.transport is Transport.POLLING:
            session.begin_upgrade()
        elif op == "ws_step" and session.upgrading:
            frame = next(steps, None)
            if frame is not None:
                session.receive_ws_frame(frame, now)
        elif op == "timer":
            session.on_timer(now)  # may queue a ping: it must not disturb the order
        if parked and session.transport is Transport.POLLING:
            body = session.poll_get()
            parked = body is None
            if body is not None:
                collect_body(body)
        collect_ws()
    # finish: complete the upgrade if started, otherwise drain over polling
    if session.upgrading:
        for frame in steps:
            session.receive_ws_frame(frame, now)
    if session.transport is Transport.WEBSOCKET:
        collect_ws()
    else:
        if parked:
            session.cancel_get()
        while session.has_output:
            body = session.begin_get(now)
            assert body is not None
            collect_body(body)
    assert received == sent
