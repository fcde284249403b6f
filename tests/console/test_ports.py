"""The run command's ports: the one asked for or a clear error; else the first free one from the default."""

from __future__ import annotations

import socket

import pytest

from console.ports import PortTaken, choose_port, is_free


def listening_socket() -> socket.socket:
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen(1)
    return taken


def test_a_port_asked_for_is_used_when_free():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    assert choose_port("127.0.0.1", asked=port, default=8000, name="LIVEWARD_PORT") == port


def test_a_port_asked_for_that_is_taken_is_an_error_naming_the_setting():
    with listening_socket() as taken:
        port = taken.getsockname()[1]
        with pytest.raises(PortTaken, match=rf"port {port} on 127.0.0.1 \(LIVEWARD_PORT\) is in use"):
            choose_port("127.0.0.1", asked=port, default=8000, name="LIVEWARD_PORT")


def test_a_taken_default_moves_to_the_next_free_port():
    with listening_socket() as taken:
        port = taken.getsockname()[1]
        assert not is_free("127.0.0.1", port)
        chosen = choose_port("127.0.0.1", asked=0, default=port, name="LIVEWARD_SIMULATOR_CONTROL_PORT")
    assert chosen > port
    assert is_free("127.0.0.1", chosen)


def test_a_port_to_avoid_is_never_chosen():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    assert choose_port("127.0.0.1", asked=0, default=port, name="X", avoid=frozenset({port})) != port
    with pytest.raises(PortTaken):
        choose_port("127.0.0.1", asked=port, default=8000, name="X", avoid=frozenset({port}))
