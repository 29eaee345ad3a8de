"""The progress bar of long commands: what it says, and how often."""

import io

import pytest

from accountability.services.progress import ProgressBar


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize(
    ("done", "total", "elapsed", "expected"),
    [
        pytest.param(
            50_000, 200_000, 5.0,
            "rebuild: [#####---------------]  25% 50,000/200,000 events, 10,000/s, ETA 0:15",
            id="quarter-way",
        ),
        pytest.param(
            0, 200_000, 0.0,
            "rebuild: [--------------------]   0% 0/200,000 events, 0/s, ETA ?",
            id="nothing-yet",
        ),
        pytest.param(
            1_000, 8_201_000, 1.0,
            "rebuild: [--------------------]   0% 1,000/8,201,000 events, 1,000/s, ETA 2:16:40",
            id="hours-left",
        ),
        pytest.param(1_500, None, 3.0, "rebuild: 1,500 events, 500/s", id="end-unknown"),
    ],
)  # fmt: skip
def test_the_bar_says_how_far_how_fast_and_how_long_is_left(done, total, elapsed, expected):
    bar = ProgressBar("rebuild", out=io.StringIO(), width=20)
    assert bar.render(done, total, elapsed) == expected


def test_off_a_terminal_it_writes_a_line_every_few_seconds_not_every_call():
    out, clock = io.StringIO(), Clock()
    bar = ProgressBar("rebuild", out=out, line_seconds=5.0, clock=clock)
    for step in range(1, 101):
        clock.now = step * 0.1
        bar(step * 100, 10_000)
    bar.finish(10_000)

    lines = out.getvalue().splitlines()
    assert len(lines) == 3  # at 0.1 s, about 5 s later, and the final line
    assert "\r" not in out.getvalue()
    assert lines[-1].startswith("rebuild: [")
    assert "100% 10,000/10,000" in lines[-1]


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_on_a_terminal_it_redraws_one_line_in_place():
    out, clock = Terminal(), Clock()
    bar = ProgressBar("rebuild", out=out, clock=clock)
    for step in range(1, 11):
        clock.now = step * 0.25
        bar(step, 10)
    bar.finish(10)

    text = out.getvalue()
    assert text.count("\n") == 1
    assert text.endswith("\n")
    assert text.count("\r") == 11
