"""The Faust application: wiring only. The decider and projector do the work."""

import asyncio
import logging
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import faust
from faust.transport.drivers.aiokafka import AIOKafkaConsumerThread
from faust.transport.drivers.aiokafka import Consumer as AIOKafkaConsumer
from faust.transport.drivers.aiokafka import Transport as AIOKafkaTransport
from mode import CrashingSupervisor
from sqlalchemy import Engine

from accountability.projections import all_projections
from accountability.services import metrics
from accountability.services.checkpoints import (
    CheckpointError,
    default_key_path,
    publish_checkpoint,
)
from accountability.services.dead_letters import DeadLetterOutbox, Message
from accountability.services.kafka import read_partition
from accountability.services.keys import KeyShredder
from accountability.services.settings import Settings
from accountability.services.topics import COMMANDS, DEAD_LETTERS, EVENTS, RESULTS

from .decider import Decider, IncomingCommand
from .projector import Projector

log = logging.getLogger(__name__)

RECONCILE_INTERVAL_SECONDS = 30.0
DEAD_LETTER_PUBLISH_INTERVAL_SECONDS = 5.0
"""How soon a replayed (or otherwise changed) dead letter's new status reaches its topic."""

FETCH_MAX_WAIT_MS = 25
"""How long the broker may hold a fetch that has nothing to return.

The embedded broker holds a fetch for its whole maximum wait even when records
arrive meanwhile (measured: Faust's fixed 1,500 ms added up to 1.5 s per hop), so
the worker asks for short waits; an idle worker then polls about 40 times a second.
"""


class _PromptConsumerThread(AIOKafkaConsumerThread):
    def _create_worker_consumer(self, transport: Any) -> Any:
        consumer = super()._create_worker_consumer(transport)
        # Faust passes fetch_max_wait_ms=1500 and offers no setting for it.
        consumer._fetch_max_wait_ms = FETCH_MAX_WAIT_MS
        return consumer


class _PromptConsumer(AIOKafkaConsumer):
    def _new_consumer_thread(self) -> _PromptConsumerThread:
        return _PromptConsumerThread(self, loop=self.loop, beacon=self.beacon)


class _PromptTransport(AIOKafkaTransport):
    Consumer = _PromptConsumer


class WorkerApp(faust.App):
    """A Faust app whose consumer does not sit on empty fetches (see FETCH_MAX_WAIT_MS)."""

    def _new_transport(self) -> Any:
        return _PromptTransport(self.conf.broker_consumer, self, loop=self.loop)


class FaustLog:
    """The decider's :class:`~.decider.LogPort` over the Faust app's producer."""

    def __init__(self, app: faust.App, bootstrap: str) -> None:
        self._app = app
        self._bootstrap = bootstrap

    async def publish_events(self, partition: int, items: Sequence[tuple[str, bytes]]) -> list[int]:
        producer = self._app.producer
        pending = [
            await producer.send(EVENTS, key.encode(), value, partition, None, None)
            for key, value in items
        ]
        return [metadata.offset for metadata in await asyncio.gather(*pending)]

    async def publish_results(self, items: Sequence[tuple[str, bytes]]) -> None:
        producer = self._app.producer
        pending = [
            await producer.send(RESULTS, key.encode(), value, None, None, None)
            for key, value in items
        ]
        await asyncio.gather(*pending)

    async def read_events(self, partition: int, start: int) -> list[tuple[int, bytes]]:
        return await read_partition(self._bootstrap, EVENTS, partition, start)

    async def publish_dead_letters(self, messages: Sequence[Message]) -> None:
        producer = self._app.producer
        pending = [
            await producer.send(DEAD_LETTERS, key.encode(), value, None, None, headers)
            for key, value, headers in messages
        ]
        await asyncio.gather(*pending)


def create_app(settings: Settings, engine: Engine) -> faust.App:
    """The worker's Faust app, its agents bound to ``engine``. Connects to nothing yet."""
    app = WorkerApp(
        settings.worker_id,
        broker=f"kafka://{settings.kafka_bootstrap_servers}",
        datadir=str(settings.data_dir / "worker"),
        key_serializer="raw",
        value_serializer="raw",
        topic_partitions=settings.topic_partitions,
        topic_allow_declare=False,
        topic_disable_leader=True,
        # The embedded broker holds a JoinGroup for half the session timeout (BROKER.md).
        broker_session_timeout=6,
        broker_heartbeat_interval=2,
        consumer_auto_offset_reset="earliest",
        processing_guarantee="at_least_once",
        producer_acks=-1,
        # No web server: BROKER.md saw Faust bind 0.0.0.0:6066 even with web disabled,
        # so it is also told to bind only the loopback interface.
        web_enabled=False,
        web_bind="127.0.0.1",
        agent_supervisor=CrashingSupervisor,
    )
    commands = app.topic(COMMANDS, key_type=bytes, value_type=bytes)
    events = app.topic(EVENTS, key_type=bytes, value_type=bytes)
    log_port = FaustLog(app, settings.kafka_bootstrap_servers)
    decider = Decider(engine, log_port, counter=metrics.SqlDecisionCounter())
    outbox = DeadLetterOutbox(engine, log_port)
    # The key shredder is live only: it destroys case keys in this database's store,
    # which a rebuild into another database must never touch.
    projector = Projector(
        engine, [*all_projections(), KeyShredder()], count=metrics.count_batch, outbox=outbox
    )

    @app.agent(commands, name="decide")
    async def decide(stream: Any) -> None:
        async for batch in stream.take_events(settings.decider_batch_size, within=0.01):
            await decider.handle(
                [IncomingCommand(e.message.partition, e.message.offset, e.value) for e in batch]
            )

    @app.agent(events, name="project")
    async def project(stream: Any) -> None:
        async for batch in stream.take_events(settings.projector_batch_size, within=0.02):
            await projector.handle(
                [(e.message.partition, e.message.offset, e.value) for e in batch]
            )

    @app.on_partitions_revoked.connect
    async def on_revoked(sender: Any, /, *args: Any, signal: Any, **kwargs: Any) -> None:
        revoked = args[0] if args else kwargs["revoked"]
        decider.partitions_revoked({tp.partition for tp in revoked if tp.topic == COMMANDS})

    @app.on_partitions_assigned.connect
    async def on_assigned(sender: Any, /, *args: Any, signal: Any, **kwargs: Any) -> None:
        assigned = args[0] if args else kwargs["assigned"]
        owned = {
            t: sorted(tp.partition for tp in assigned if tp.topic == t) for t in (COMMANDS, EVENTS)
        }
        log.info("owns partitions: commands %s, events %s", owned[COMMANDS], owned[EVENTS])
        decider.partitions_assigned(set(owned[COMMANDS]))
        # Settle what a crashed owner left pending now, not when the next command comes;
        # in the background, so that the rebalance is not held up. A failure crashes the app.
        app.add_future(decider.reconcile_assigned())

    @app.timer(RECONCILE_INTERVAL_SECONDS)
    async def reconcile() -> None:
        await decider.reconcile_assigned()

    @app.timer(DEAD_LETTER_PUBLISH_INTERVAL_SECONDS, on_leader=True)
    async def publish_dead_letters() -> None:
        """Publish letters changed outside the projector (replays); one worker does it."""
        await outbox.flush()

    @app.timer(settings.checkpoint_interval_seconds, on_leader=True)
    async def checkpoint() -> None:
        """Sign the log's Merkle roots; one worker of the group does it (the leader)."""
        try:
            published = await asyncio.to_thread(
                publish_checkpoint,
                engine,
                default_key_path(settings),
                datetime.now(UTC),
                partitions=settings.topic_partitions,
                skip_unchanged=True,
            )
        except CheckpointError as exc:
            log.error("no checkpoint published: %s", exc)
            return
        log.debug("latest checkpoint %s", published.checkpoint_id)

    return app
