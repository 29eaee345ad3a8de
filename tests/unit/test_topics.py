"""Topic properties (DESIGN §8) and the partitioning the decider relies on."""

from dataclasses import replace

import pytest

from accountability.services.kafka import TopicMismatch, ensure_partition_counts
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


def test_existing_topics_with_the_configured_partition_count_are_accepted(
    production: Settings,
) -> None:
    specs = topic_specs(production)

    ensure_partition_counts(specs, {EVENTS: 12, COMMANDS: 12})  # the others are missing


@pytest.mark.parametrize("found", [pytest.param(4, id="fewer"), pytest.param(24, id="more")])
def test_an_existing_topic_with_another_partition_count_is_refused(
    production: Settings, found: int
) -> None:
    with pytest.raises(TopicMismatch) as refused:
        ensure_partition_counts(topic_specs(production), {EVENTS: 12, COMMANDS: found})

    assert str(refused.value) == (
        f"topic {COMMANDS} has {found} partitions but ACCOUNTABILITY_TOPIC_PARTITIONS is 12; "
        f"set it to {found} (the count is fixed once the log has events)"
    )
