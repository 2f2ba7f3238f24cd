"""The web side of ``serve``: the operator console (pages under ``/console``)."""
