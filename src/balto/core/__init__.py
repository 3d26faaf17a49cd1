"""The shared core: HTTP/1.1 on h11, the listener, WebSocket upgrade, limits, lifecycle,
errors, JSON decoding, crash isolation and metrics. It imports no app."""
