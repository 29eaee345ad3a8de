"""``accountability bench`` end to end, at a tiny size: every section, every figure."""

import os
import re
import subprocess
import sys
from pathlib import Path


def test_a_small_bench_run_writes_every_figure(tmp_path: Path, postgres_url: str) -> None:
    # postgres_url: skips (or fails in CI) without a server; the bench makes its own databases.
    admin = postgres_url.rsplit("/", 1)[0] + "/postgres"
    output = tmp_path / "benchmarks.md"
    argv = [
        sys.executable, "-m", "accountability.services.cli", "bench",
        "--sizes", "1500,3000", "--cases", "0", "--repeats", "2", "--large-repeats", "2",
        "--clients", "3", "--rounds", "2", "--decider-cases", "15", "--peer-cases", "8",
        "--queries", "10", "--baseline-events", "150", "--output", str(output),
    ]  # fmt: skip
    env = {**os.environ, "ACCOUNTABILITY_BENCH_POSTGRES_URL": admin}
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=880, check=False)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    report = output.read_text()
    for heading in (
        "## The log: reading, rebuilding, verifying",
        "## How cost grows with the log",
        "## Queries over the whole log in PostgreSQL",
        "## The decider and the API",
        "## Against the `eventsourcing` library",
    ):
        assert heading in report
    assert "each run repeated 2 times" in report
    growth = report.split("## How cost grows with the log")[1].split("##")[0]
    sizes = [row.split(" | ")[0].strip("| ") for row in growth.splitlines() if row[2:3].isdigit()]
    # One row per size; the largest is the whole log: the smallest demo, 8,908 events.
    assert sizes[0] == "1,500"
    assert len(sizes) == 2
    for label in ("ceiling", "rebuild every read model into SQLite", "baseline", "`verify`"):
        line = next(row for row in report.splitlines() if row.startswith(f"| {label}"))
        rates = [float(x.replace(",", "")) for x in line.split(" | ")[2:5]]
        assert min(rates) > 0, line
        assert rates[0] <= rates[1] <= rates[2], line  # min, median, max
    for database in ("SQLite", "PostgreSQL"):
        line = next(row for row in report.splitlines() if row.startswith(f"| {database} |"))
        cells = line.strip("| ").split(" | ")
        assert int(cells[1].replace(",", "")) > 8 * 4, line  # commands of 8 cases
        assert all(float(cell) > 0 for cell in cells[2:]), line
    assert re.search(r"Decider: [\d,]+ commands/s", report)
    verdicts = re.findall(r"(?:—|SQLite|PostgreSQL) (met|\*\*missed\*\*)", report)
    assert len(verdicts) >= 7, verdicts  # every target is judged
