"""Coordination of many counter instances through Redis (``REDIS_URL``): shared rate limits,
and what one instance does that the others' live sockets and feeds must see."""
