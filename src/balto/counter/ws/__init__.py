"""The counter WebSocket: the sans-IO session protocol (``protocol``), its outgoing events and
close reasons (``events``), the recognition scheduler (``scheduler``) and their Trio shell
(``session``): auth, audio intake into a ring buffer, recognition, feedback, one sender."""
