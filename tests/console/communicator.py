"""Channels' WebsocketCommunicator, importable without daphne.

``channels.testing``'s package ``__init__`` imports its live-server test case, which needs daphne;
Liveward serves with uvicorn and does not install daphne. The communicator itself needs only asgiref,
so when daphne is missing, load the package's modules without running its ``__init__``.
"""

from __future__ import annotations

import sys
import types
from pathlib import Path

try:
    from channels.testing import WebsocketCommunicator
except ModuleNotFoundError as exc:
    if exc.name != "daphne":
        raise
    import channels

    _package = types.ModuleType("channels.testing")
    _package.__path__ = [str(Path(channels.__file__).parent / "testing")]
    sys.modules["channels.testing"] = _package
    from channels.testing.websocket import WebsocketCommunicator

__all__ = ["WebsocketCommunicator"]
