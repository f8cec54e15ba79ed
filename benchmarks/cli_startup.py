"""`loupe --help`, `loupe runs` and `loupe samples` from process start to exit (issue 17: well under
a second), against the anchor: the listing `loupe samples` printed before (every kind's module
imported through ``all_tasks()``, which loads torch), in a fresh process.

Each command is run ``--repeats`` times (default 7) in a fresh process with an empty LOUPE_HOME,
the order reversed every other round; prints the medians, the load, and the samples/anchor ratio.

    python benchmarks/cli_startup.py [--repeats 7]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SIDES = {
    "loupe --help": [sys.executable, "-m", "core.cli", "--help"],
    "loupe runs": [sys.executable, "-m", "core.cli", "runs"],
    "loupe samples": [sys.executable, "-m", "core.cli", "samples"],
    "anchor: all_tasks() listing": [sys.executable, "-c", "from core.tasks import all_tasks; "
                                    "print({t.kind: t.samples() for t in all_tasks()})"],
}


def seconds(command: list[str]) -> float:
    with tempfile.TemporaryDirectory(prefix="loupe-cli-") as home:
        env = {**os.environ, "LOUPE_HOME": home}
        start = time.perf_counter()
        subprocess.run(command, cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
        return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    times: dict[str, list[float]] = {name: [] for name in SIDES}
    for name in SIDES:  # warm the file cache once, untimed
        seconds(SIDES[name])
    for i in range(args.repeats):
        for name in (list(SIDES) if i % 2 == 0 else list(reversed(SIDES))):
            times[name].append(seconds(SIDES[name]))
    medians = {name: statistics.median(t) for name, t in times.items()}
    for name, value in medians.items():
        print(f"{name:>30}: median {value:.3f} s, best {min(times[name]):.3f} s over {args.repeats}")
    ratio = medians["loupe samples"] / medians["anchor: all_tasks() listing"]
    print(f"ratio loupe samples / anchor: {ratio:.2f} (load average {os.getloadavg()[0]:.1f})")


if __name__ == "__main__":
    main()
