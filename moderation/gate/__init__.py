"""The ingest gate: the publish rules, the media servers' callback protocols, the Django views, the
registration check and the lean ASGI front that serves both ahead of Django's middleware."""
