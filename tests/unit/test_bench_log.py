"""The benchmark's log is a history the product could have recorded."""

from datetime import datetime

from accountability.events.envelope import decode_envelope
from accountability.services.bench_log import build_log
from accountability.services.bench_report import percentile


def test_the_log_is_in_the_order_of_recording_and_every_stream_is_in_order() -> None:
    log = build_log(1_500, seed=3)
    assert log.events >= 1_500
    assert log.cases > 100
    last: dict[str, int] = {}
    previous: datetime | None = None
    for stream_id, raw in log.items:
        envelope = decode_envelope(raw)
        assert envelope.stream_id == stream_id
        assert last.get(stream_id, 0) + 1 == envelope.sequence  # nothing skipped or reordered
        last[stream_id] = envelope.sequence
        assert envelope.recorded_at >= envelope.occurred_at
        assert previous is None or previous <= envelope.recorded_at
        previous = envelope.recorded_at
    assert len({raw for _, raw in log.items}) == log.events


def test_a_log_holds_at_least_the_cases_asked_for() -> None:
    assert build_log(1_000, cases=2_000, seed=3).cases >= 2_000


def test_nearest_rank_percentiles() -> None:
    values = [float(n) for n in range(1, 101)]
    assert percentile(values, 50) == 50.0
    assert percentile(values, 99) == 99.0
    assert percentile(values, 100) == 100.0
    assert percentile([7.0], 99) == 7.0
    assert percentile([], 50) == 0.0
