"""The API's side of the command path: send a command, wait for its answer.

Commands go to ``accountability.commands`` keyed by stream id; answers come back on
``accountability.command-results``, read by one background thread that hands each
to the request waiting for it. Both clients are kafka-python's.
"""

import asyncio
import logging
import threading
import time
from concurrent.futures import Future

from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.errors import KafkaError

from accountability.events.commands import CommandEnvelope
from accountability.events.errors import DecodeError
from accountability.events.wire import CommandResult, decode_result, encode_command
from accountability.services.kafka import BrokerUnavailable
from accountability.services.settings import Settings
from accountability.services.topics import COMMANDS, RESULTS

log = logging.getLogger(__name__)


class NotConfirmed(Exception):
    """The command was sent but its answer did not arrive in time."""


class CommandBus:
    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._producer: KafkaProducer | None = None
        self._producer_lock = threading.Lock()
        self._waiting: dict[str, list[Future[CommandResult]]] = {}
        self._waiting_lock = threading.Lock()
        self._stop = threading.Event()
        self._listener: threading.Thread | None = None
        self._ready = threading.Event()
        self._listen_error: Exception | None = None

    # --- lifecycle ------------------------------------------------------------------

    def start(self, timeout: float = 30.0) -> None:
        """Start reading answers; returns once the reader is positioned on every partition.

        Starting a bus that already listens does nothing.
        """
        if self.listening:
            return
        self._listener = threading.Thread(target=self._listen, name="command-results", daemon=True)
        self._listener.start()
        deadline = time.monotonic() + timeout
        # The reader gives up on its own when no broker answers at all: say so at once.
        while not self._ready.wait(0.1):
            if self._listener.is_alive() and time.monotonic() < deadline:
                continue
            raise BrokerUnavailable(
                f"could not read {RESULTS} at {self._settings.kafka_bootstrap_servers}"
                + (f": {self._listen_error}" if self._listen_error else "")
            )

    def stop(self) -> None:
        self._stop.set()
        if self._listener is not None:
            self._listener.join(timeout=5)
        with self._producer_lock:
            if self._producer is not None:
                self._producer.close(timeout=2)
                self._producer = None

    @property
    def listening(self) -> bool:
        return self._ready.is_set() and self._listener is not None and self._listener.is_alive()

    # --- sending --------------------------------------------------------------------

    async def submit(self, envelope: CommandEnvelope) -> CommandResult:
        """Send ``envelope`` and wait for the decider's answer.

        Raises :class:`BrokerUnavailable` when the command could not be written and
        :class:`NotConfirmed` when it was written but no answer came in time; in
        both cases resending the same command id is safe.
        """
        answer: Future[CommandResult] = Future()
        command_id = envelope.command_id
        with self._waiting_lock:
            self._waiting.setdefault(command_id, []).append(answer)
        try:
            await asyncio.to_thread(self._send, envelope)
            try:
                return await asyncio.wait_for(
                    asyncio.wrap_future(answer), self._settings.command_timeout_seconds
                )
            except TimeoutError:
                raise NotConfirmed(
                    f"command {command_id} was sent but not answered within "
                    f"{self._settings.command_timeout_seconds:.0f}s; resend it with the same "
                    "command id to get its answer"
                ) from None
        finally:
            with self._waiting_lock:
                waiters = self._waiting.get(command_id, [])
                if answer in waiters:
                    waiters.remove(answer)
                if not waiters:
                    self._waiting.pop(command_id, None)

    def _send(self, envelope: CommandEnvelope) -> None:
        timeout = self._settings.broker_timeout_seconds
        try:
            producer = self._ensure_producer()
            future = producer.send(
                COMMANDS, key=envelope.stream_id.encode(), value=encode_command(envelope)
            )
            future.get(timeout=timeout)
        except KafkaError as exc:
            self._drop_producer()
            raise BrokerUnavailable(
                f"the command log at {self._settings.kafka_bootstrap_servers} did not accept the "
                f"command within {timeout:.0f}s ({type(exc).__name__}); nothing was recorded"
            ) from exc

    def _ensure_producer(self) -> KafkaProducer:
        with self._producer_lock:
            if self._producer is None:
                ms = int(self._settings.broker_timeout_seconds * 1000)
                self._producer = KafkaProducer(
                    bootstrap_servers=self._settings.kafka_bootstrap_servers,
                    client_id="accountability-api",
                    acks="all",
                    linger_ms=0,
                    # A broker restart breaks kafka-python's idempotent producer for good
                    # (BROKER.md); commands are idempotent by their id instead.
                    enable_idempotence=False,
                    max_block_ms=ms,
                    bootstrap_timeout_ms=ms,
                    request_timeout_ms=ms,
                    delivery_timeout_ms=ms + 1000,
                    retries=3,
                    max_in_flight_requests_per_connection=1,
                )
            return self._producer

    def _drop_producer(self) -> None:
        with self._producer_lock:
            producer, self._producer = self._producer, None
        if producer is not None:
            try:
                producer.close(timeout=0)
            except KafkaError:  # pragma: no cover - closing a broken client
                log.debug("closing a failed producer", exc_info=True)

    # --- answers --------------------------------------------------------------------

    def _listen(self) -> None:
        try:
            consumer = KafkaConsumer(
                bootstrap_servers=self._settings.kafka_bootstrap_servers,
                client_id="accountability-api-results",
                group_id=None,
                enable_auto_commit=False,
                auto_offset_reset="latest",
                request_timeout_ms=30_000,
                # No broker at start: fail as fast as a command would (BrokerUnavailable).
                bootstrap_timeout_ms=int(self._settings.broker_timeout_seconds * 1000),
                # The embedded broker holds a fetch for its whole maximum wait even when
                # an answer arrives meanwhile: keep the wait short.
                fetch_max_wait_ms=20,
            )
            partitions = consumer.partitions_for_topic(RESULTS) or set()
            if not partitions:
                raise BrokerUnavailable(f"topic {RESULTS} does not exist")
            assigned = [TopicPartition(RESULTS, p) for p in sorted(partitions)]
            consumer.assign(assigned)
            for tp in assigned:
                consumer.position(tp)  # fixes the start before any command is sent
        except (KafkaError, BrokerUnavailable) as exc:
            self._listen_error = exc
            log.error("cannot read command results: %s", exc)
            return
        self._ready.set()
        try:
            while not self._stop.is_set():
                batches = consumer.poll(timeout_ms=100)
                for records in batches.values():
                    for record in records:
                        self._deliver(record.value)
        finally:
            consumer.close()

    def _deliver(self, raw: bytes) -> None:
        try:
            result = decode_result(raw)
        except DecodeError as exc:
            log.error("unreadable command result: %s", exc)
            return
        with self._waiting_lock:
            waiters = list(self._waiting.get(result.command_id, []))
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(result)
