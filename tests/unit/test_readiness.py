"""Readiness asks the broker itself whether it would take a command."""

import asyncio
import socket

from accountability.services.api.app import broker_unreachable


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_a_listening_bootstrap_server_is_enough() -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        dead = _closed_port()

        assert asyncio.run(broker_unreachable(f"127.0.0.1:{dead}, 127.0.0.1:{port}")) is None


def test_every_unreachable_server_is_named_with_its_reason() -> None:
    dead = _closed_port()

    problem = asyncio.run(broker_unreachable(f"127.0.0.1:{dead},no-port-here"))

    assert problem == (
        f"cannot connect to 127.0.0.1:{dead} (ConnectionRefusedError), no-port-here (ValueError)"
    )
