"""The chain managers' web panel at ``/painel``: static files (``static/``) and their routes."""
