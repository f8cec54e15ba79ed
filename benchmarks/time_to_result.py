"""Time to result: wall seconds of a whole training, from process start to a finished, evaluated,
saved run, split into phases, cold (a fresh process and an empty LOUPE_HOME) and warm (a second
run of the same config in the same process).

Each case runs in its own child process (this script with ``--child``): the parent measures the
child's whole wall time (interpreter start included); the child measures its imports and, for
each of the two runs, the seconds of every phase the training reports (``core.phases``: reading
data, decoding, building the model, training, validating, final evaluation, saving, ...) and the
gap between the last phase and the end of ``train`` (store writes, clean-up). Anchor: the cold
run's own total (each phase is also printed as a share of it).

``--cli`` times what a person types instead: the real ``loupe train KIND --data DATA [--epochs N]``
as a subprocess, process start to exit, cold (the first command in a fresh LOUPE_HOME) and warm
(a second command, same home: the sample is built and the history exists). ``--repeats N`` runs
the cold/warm pair N times, each in a new home, and prints the medians.

Cases are ``KIND:DATA[:EPOCHS]``; the samples are the ones ``loupe samples`` lists:

    .venv/bin/python benchmarks/time_to_result.py                        # the tabular samples
    .venv/bin/python benchmarks/time_to_result.py --case text:sample:reviews:1
    .venv/bin/python benchmarks/time_to_result.py --case image:../shared/data/cats-dogs-photos:2
    .venv/bin/python benchmarks/time_to_result.py --cli --case tabular:sample:house_prices --json
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

START = time.perf_counter()
ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CASES = ("tabular:sample:house_prices", "tabular:sample:diabetes")
EPOCH = re.compile(r" · epoch \d+( of \d+)?$")


def parse() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--case", action="append",
                   help="KIND:DATA[:EPOCHS], e.g. tabular:sample:house_prices or image:photos/:2 "
                        f"(repeatable; default: {', '.join(DEFAULT_CASES)})")
    p.add_argument("--json", action="store_true", help="print one JSON object per case")
    p.add_argument("--cli", action="store_true",
                   help="time the `loupe train` command itself, cold and warm (process start to exit)")
    p.add_argument("--repeats", type=int, default=1, help="--cli: cold/warm pairs, medians printed")
    p.add_argument("--child", nargs=3, metavar=("KIND", "DATA", "EPOCHS"), help=argparse.SUPPRESS)
    return p.parse_args()


def split_case(case: str) -> tuple[str, str, str]:
    kind, _, rest = case.partition(":")
    data, epochs = rest, ""
    head, _, tail = rest.rpartition(":")
    if head and tail.isdigit():
        data, epochs = head, tail
    return kind, data, epochs


# --- the child: one case, cold then warm --------------------------------------------------------
def child(kind: str, data: str, epochs: str) -> None:
    imports_started = time.perf_counter()
    from core.datasets.samples import parse_sample
    from core.store import RunStore
    from core.tasks import get_task
    from core.train import train

    imports = time.perf_counter() - imports_started
    task = get_task(kind)
    sample = parse_sample(data)
    cfg = task.default_config(sample)
    if not sample:
        cfg = cfg.replace(data={"source": data})
    if epochs:
        cfg = cfg.replace(train={"epochs": int(epochs)})
    runs = []
    for label in ("cold", "warm"):
        marks: list[tuple[float, str]] = []

        def on_phase(phase: object, marks: list[tuple[float, str]] = marks) -> None:
            name = EPOCH.sub("", phase.name)  # type: ignore[attr-defined]  # one row per kind of phase
            if not marks or marks[-1][1] != name:
                marks.append((time.perf_counter(), name))

        t0 = time.perf_counter()
        result = train(cfg, RunStore(), on_phase=on_phase)
        end = time.perf_counter()
        phases: dict[str, float] = {}
        for (start, name), (stop, _) in zip(marks, [*marks[1:], (end, "")], strict=True):
            phases[name] = phases.get(name, 0.0) + stop - start
        if marks:
            phases["(before the first phase)"] = marks[0][0] - t0
        runs.append({"run": label, "status": result.status, "seconds": end - t0, "phases": phases,
                     "metrics": {k: v for k, v in (result.metrics or {}).items() if k.startswith("test_")}})
    print(json.dumps({"imports_s": imports, "process_to_imports_s": imports_started - START,
                      "runs": runs}))


# --- the parent ------------------------------------------------------------------------------
def run_case(case: str) -> dict:
    kind, data, epochs = split_case(case)
    with tempfile.TemporaryDirectory(prefix="loupe-ttr-") as home:
        env = {**os.environ, "LOUPE_HOME": home, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
        t0 = time.perf_counter()
        done = subprocess.run([sys.executable, __file__, "--child", kind, data, epochs or ""], cwd=ROOT,
                              env=env, capture_output=True, text=True)
        wall = time.perf_counter() - t0
    if done.returncode != 0:
        raise SystemExit(f"{case} failed:\n{done.stderr[-3000:]}")
    out = json.loads(done.stdout.strip().splitlines()[-1])
    return {"case": case, "process_wall_s": wall, "load_1min": os.getloadavg()[0], **out}


def loupe_train_command(kind: str, data: str, epochs: str) -> list[str]:
    """The command a person types for this case (the venv's `loupe` next to this interpreter)."""
    loupe = Path(sys.executable).with_name("loupe")
    command = [str(loupe)] if loupe.exists() else [sys.executable, "-m", "core.cli"]
    return [*command, "train", kind, "--data", data, *(["--epochs", epochs] if epochs else []),
            "--quiet", "--json"]


def time_command(command: list[str], home: str) -> tuple[float, dict]:
    """Wall seconds of one command from process start to exit, and its JSON output."""
    env = {**os.environ, "LOUPE_HOME": home, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    t0 = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    try:
        out = json.loads(done.stdout)
    except json.JSONDecodeError:
        out = {}
    return wall, out


def run_cli_case(case: str, repeats: int = 1) -> dict:
    """`loupe train` as a subprocess: cold (fresh LOUPE_HOME) then warm (same home), repeated."""
    kind, data, epochs = split_case(case)
    command = loupe_train_command(kind, data, epochs)
    walls: dict[str, list[float]] = {"cold": [], "warm": []}
    metrics: dict = {}
    for _ in range(repeats):
        with tempfile.TemporaryDirectory(prefix="loupe-ttr-cli-") as home:
            for label in walls:
                wall, out = time_command(command, home)
                walls[label].append(wall)
                metrics = metrics or {k: v for k, v in (out.get("metrics") or {}).items()
                                      if k.startswith("test_")}
    return {"case": case, "mode": "cli", "command": "loupe " + " ".join(command[command.index("train"):]),
            "cold_s": statistics.median(walls["cold"]), "warm_s": statistics.median(walls["warm"]),
            "walls": walls, "load_1min": os.getloadavg()[0], "metrics": metrics}


def show_cli(result: dict) -> None:
    print(f"\n== {result['case']} (`{result['command']}`): cold {result['cold_s']:.1f} s, warm "
          f"{result['warm_s']:.1f} s (medians of {len(result['walls']['cold'])}; process start to exit; "
          f"load {result['load_1min']:.1f})")
    print(f"   test metrics: {json.dumps(result['metrics'])}")


def show(result: dict) -> None:
    cold, warm = result["runs"]
    print(f"\n== {result['case']}: process wall {result['process_wall_s']:.1f} s (interpreter start, "
          f"imports {result['imports_s']:.1f} s, cold run {cold['seconds']:.1f} s, warm run "
          f"{warm['seconds']:.1f} s; load {result['load_1min']:.1f})")
    print(f"   {'phase':<34} {'cold s':>8} {'share':>6} {'warm s':>8}")
    for name in dict.fromkeys([*cold["phases"], *warm["phases"]]):
        c, w = cold["phases"].get(name, 0.0), warm["phases"].get(name, 0.0)
        print(f"   {name:<34} {c:8.2f} {c / cold['seconds']:6.0%} {w:8.2f}")
    print(f"   test metrics (cold): {json.dumps(cold['metrics'])}")


def main() -> None:
    args = parse()
    if args.child:
        sys.path.insert(0, str(ROOT))
        child(*args.child)
        return
    for case in args.case or DEFAULT_CASES:
        if args.cli:
            result = run_cli_case(case, args.repeats)
            print(json.dumps(result)) if args.json else show_cli(result)
            continue
        result = run_case(case)
        print(json.dumps(result)) if args.json else show(result)


if __name__ == "__main__":
    main()
