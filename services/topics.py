"""The topics and the properties they are created with (DESIGN §8)."""

from dataclasses import dataclass
from typing import Final

from kafka.partitioner.default import murmur2

from .settings import Settings

COMMANDS: Final = "accountability.commands"
EVENTS: Final = "accountability.events"
RESULTS: Final = "accountability.command-results"
DEAD_LETTERS: Final = "accountability.dead-letters"

_WEEK_MS: Final = 7 * 24 * 3600 * 1000
_DAY_MS: Final = 24 * 3600 * 1000


@dataclass(frozen=True, slots=True)
class TopicSpec:
    name: str
    partitions: int
    replication_factor: int
    config: dict[str, str]


def topic_specs(settings: Settings) -> list[TopicSpec]:
    """Events are kept for ever; commands and answers only as long as a retry needs them.

    Commands and events have the same partition count: the decider publishes a
    stream's events to the partition number its commands arrive on. Dead letters are
    kept for ever too: they are the oversight record of what a read model could not
    apply, and each holds the record's bytes.
    """
    insync = str(settings.topic_min_insync_replicas)
    rf = settings.topic_replication_factor
    n = settings.topic_partitions
    return [
        TopicSpec(
            EVENTS,
            n,
            rf,
            {
                "retention.ms": "-1",
                "retention.bytes": "-1",
                "cleanup.policy": "delete",
                "min.insync.replicas": insync,
            },
        ),
        TopicSpec(
            COMMANDS,
            n,
            rf,
            {
                "retention.ms": str(_WEEK_MS),
                "cleanup.policy": "delete",
                "min.insync.replicas": insync,
            },
        ),
        TopicSpec(
            RESULTS,
            n,
            rf,
            {
                "retention.ms": str(_DAY_MS),
                "cleanup.policy": "delete",
                "min.insync.replicas": insync,
            },
        ),
        TopicSpec(
            DEAD_LETTERS,
            n,
            rf,
            {
                "retention.ms": "-1",
                "retention.bytes": "-1",
                "cleanup.policy": "delete",
                "min.insync.replicas": insync,
            },
        ),
    ]


def partition_for(stream_id: str, partitions: int) -> int:
    """The partition Kafka's default partitioner picks for a stream's key (murmur2)."""
    digest: int = murmur2(stream_id.encode())
    return (digest & 0x7FFFFFFF) % partitions
