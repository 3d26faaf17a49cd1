"""The counter WebSocket: the sans-IO session protocol (``protocol``) and its Trio shell
(``session``): auth, audio intake into a ring buffer, recognition, feedback, one sender."""
