"""The counter in the browser at ``/balcao``: static files (``static/``) that capture the
microphone and speak the counter protocol over ``/ws``, and their routes."""
