"""Topic properties (DESIGN §8) and the partitioning the decider relies on."""

from dataclasses import replace

import pytest

from accountability.services.settings import Settings
from accountability.services.topics import (
    COMMANDS,
    DEAD_LETTERS,
    EVENTS,
    RESULTS,
    partition_for,
    topic_specs,
)


@pytest.fixture
def production() -> Settings:
    return replace(
        Settings.from_env({}),
        topic_partitions=12,
        topic_replication_factor=3,
        topic_min_insync_replicas=2,
    )


@pytest.mark.parametrize("name", [EVENTS, DEAD_LETTERS])
def test_events_and_dead_letters_are_kept_for_ever_and_never_compacted(
    production: Settings, name: str
) -> None:
    (events,) = [t for t in topic_specs(production) if t.name == name]

    assert events.config["retention.ms"] == "-1"
    assert events.config["retention.bytes"] == "-1"
    assert events.config["cleanup.policy"] == "delete"


def test_every_topic_has_the_configured_replication(production: Settings) -> None:
    specs = {t.name: t for t in topic_specs(production)}

    assert set(specs) == {COMMANDS, EVENTS, RESULTS, DEAD_LETTERS}
    for spec in specs.values():
        assert (spec.partitions, spec.replication_factor) == (12, 3)
        assert spec.config["min.insync.replicas"] == "2"


def test_commands_and_events_have_the_same_partition_count(production: Settings) -> None:
    specs = {t.name: t.partitions for t in topic_specs(production)}

    # The decider publishes a stream's events to the partition its commands arrive on.
    assert specs[COMMANDS] == specs[EVENTS]


@pytest.mark.parametrize(
    ("key", "java_murmur2"),
    [
        # Reference values of Kafka's own Utils.murmur2 (its UtilsTest), which the Java
        # client's default partitioner uses: commands sent by any client land together.
        pytest.param("21", -973932308, id="21"),
        pytest.param("foobar", -790332482, id="foobar"),
        pytest.param("a-little-bit-long-string", -985981536, id="long"),
    ],
)
def test_streams_land_where_kafkas_default_partitioner_puts_their_key(
    key: str, java_murmur2: int
) -> None:
    positive = java_murmur2 & 0x7FFFFFFF

    assert partition_for(key, 2**31) == positive
    assert partition_for(key, 12) == positive % 12
