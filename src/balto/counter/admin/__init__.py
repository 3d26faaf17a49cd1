"""The chains' management API under ``/api/``: the bearer key (``auth``), the counters and
their revocation, and the reports (``report``, with the Wilson interval of ``stats``), all
sans-IO but the Trio shell in ``api``."""
