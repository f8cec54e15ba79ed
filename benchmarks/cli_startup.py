"""`loupe samples` from process start to exit, against the anchor: the listing it printed before
(every kind's module imported through ``all_tasks()``, which loads torch), in a fresh process.

The two sides alternate, ``--repeats`` times each (default 7); prints both medians and the ratio.

    python benchmarks/cli_startup.py [--repeats 7]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SIDES = {
    "loupe samples": [sys.executable, "-m", "core.cli", "samples"],
    "anchor: all_tasks() listing": [sys.executable, "-c", "from core.tasks import all_tasks; "
                                    "print({t.kind: t.samples() for t in all_tasks()})"],
}


def seconds(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
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
        print(f"{name:>30}: median {value:.3f} s over {args.repeats}")
    new, anchor = medians.values()
    print(f"ratio loupe samples / anchor: {new / anchor:.2f}")


if __name__ == "__main__":
    main()
