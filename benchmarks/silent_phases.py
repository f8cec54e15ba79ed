"""How long a training shows nothing new: seconds until the first progress a person sees, the
longest stretch without an update, and (where ``core.phases`` exists) the time of each phase.

Run it in two checkouts on the same data to compare (issue 15's "silent phases"):

    LOUPE_HOME=$(mktemp -d) .venv/bin/python benchmarks/silent_phases.py image \\
        ../shared/data/cats-dogs-photos --epochs 1

Before phases, what a page or the CLI could show came from the loop's progress callbacks (after
each optimizer step and each validation); with phases every phase start and N-of-M update counts.
The anchor is the run's own wall time: both figures are also printed as a share of it.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("kind")
    parser.add_argument("data", help="a path or sample:NAME")
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--max-rows", type=int, default=None, help="use a random N rows/images")
    args = parser.parse_args()

    from core.datasets.samples import parse_sample
    from core.tasks import get_task
    from core.train import train

    task = get_task(args.kind)
    sample = parse_sample(args.data)
    cfg = task.default_config(sample)
    if not sample:
        cfg = cfg.replace(data={"source": args.data})
    if args.epochs:
        cfg = cfg.replace(train={"epochs": args.epochs})
    if args.max_rows:
        cfg = cfg.replace(data={"max_rows": args.max_rows})
    seen: list[tuple[float, str]] = []
    t0 = time.perf_counter()

    def on_progress(p: object) -> None:
        seen.append((time.perf_counter() - t0, f"progress:{p.phase}"))  # type: ignore[attr-defined]

    kwargs = {}
    try:
        import core.phases  # noqa: F401

        kwargs["on_phase"] = lambda ph: seen.append((time.perf_counter() - t0, ph.name))
    except ImportError:
        pass
    result = train(cfg, callbacks=[on_progress], **kwargs)
    total = time.perf_counter() - t0
    stamps = [0.0] + [t for t, _ in seen] + [total]
    gaps = [b - a for a, b in zip(stamps, stamps[1:], strict=False)]
    longest = max(gaps)
    where = max(range(len(gaps)), key=gaps.__getitem__)
    before = seen[where - 1][1] if where else "(start)"
    first = seen[0][0] if seen else total
    print(f"run {result.run_id}: {result.status}, {cfg.train.epochs} epoch(s) planned, {total:.1f} s wall")
    print("  " + ", ".join(f"{k} {v:.4g}" for k, v in sorted(result.metrics.items())
                           if k.startswith("test_") and k.count("_") == 1))
    print(f"first visible progress after {first:.1f} s ({first / total:.0%} of the run)")
    print(f"longest silent stretch {longest:.1f} s ({longest / total:.0%}), after '{before}'")
    if "on_phase" in kwargs:
        durations: dict[str, float] = {}
        names = [(t, n) for t, n in seen if not n.startswith("progress:")]
        for (t, name), (t_next, _) in zip(names, names[1:] + [(total, "")], strict=True):
            stem = name.split(" · ")[0]
            durations[stem] = durations.get(stem, 0.0) + t_next - t
        for stem, seconds in durations.items():
            print(f"  {stem:45s} {seconds:7.1f} s")


if __name__ == "__main__":
    main()
