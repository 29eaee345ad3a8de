"""A progress bar with an ETA for long commands (rebuilds, imports) on a terminal.

On a terminal the bar is redrawn in place at most five times a second; elsewhere (a
log file, CI) a line is written every ``line_seconds`` instead, so that nothing is
flooded with carriage returns.
"""

import sys
import time
from collections.abc import Callable
from typing import TextIO


class ProgressBar:
    """Call with (done, total or None); :meth:`finish` ends the line."""

    def __init__(
        self,
        label: str,
        *,
        out: TextIO | None = None,
        width: int = 30,
        line_seconds: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._label = label
        self._out = out or sys.stderr
        self._width = width
        self._clock = clock
        self._tty = self._out.isatty()
        self._every = 0.2 if self._tty else line_seconds
        self._started = clock()
        self._shown = float("-inf")
        self._last = ""

    def __call__(self, done: int, total: int | None) -> None:
        now = self._clock()
        if now - self._shown < self._every:
            return
        self._shown = now
        self._show(self.render(done, total, now - self._started))

    def finish(self, done: int, total: int | None = None) -> None:
        self._show(
            self.render(done, done if total is None else total, self._clock() - self._started)
        )
        if self._tty:
            self._out.write("\n")
        self._out.flush()

    def render(self, done: int, total: int | None, elapsed: float) -> str:
        rate = done / elapsed if elapsed > 0 else 0.0
        if total is None or total <= 0:
            return f"{self._label}: {done:,} events, {rate:,.0f}/s"
        share = min(1.0, done / total)
        filled = round(share * self._width)
        bar = "#" * filled + "-" * (self._width - filled)
        left = (total - done) / rate if rate > 0 else None
        eta = "?" if left is None else _duration(max(0.0, left))
        return (
            f"{self._label}: [{bar}] {share:4.0%} {done:,}/{total:,} events, "
            f"{rate:,.0f}/s, ETA {eta}"
        )

    def _show(self, line: str) -> None:
        if self._tty:
            padding = " " * max(0, len(self._last) - len(line))
            self._out.write(f"\r{line}{padding}")
        else:
            self._out.write(f"{line}\n")
        self._last = line
        self._out.flush()


def _duration(seconds: float) -> str:
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"
