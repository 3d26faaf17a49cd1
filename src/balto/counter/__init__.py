"""The counter app (the seed's Balto): registration, the counter WebSocket, storage,
speech recognition, audio and opportunity detection."""
