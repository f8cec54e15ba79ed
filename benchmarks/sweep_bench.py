"""Sweeps: does a 20-trial search beat the default config, and what does pruning save?

Anchor: the kind's default config (``Task.default_config``), trained once. Then two 20-trial TPE
sweeps over the default search space, one with the median pruner and one without; each sweep's best
trial (chosen on validation) is scored on the untouched test split. Printed per dataset: test RMSE
of the default and of each sweep's best (ratio best/default, below 1 = better) and the wall time of
the sweep with pruning over the one without. Datasets: ``sample:house_prices`` and scikit-learn's
bundled diabetes table (California housing is downloaded on first use, so not offline).

Trials run in this process (``executor="inline"``: the same training and hooks as the child
processes, without their start-up). The sweeps search around the default config with epochs capped
(``--epochs``, default 40, patience 8) so that the whole benchmark fits a shared 2-core machine.

    .venv/bin/python benchmarks/sweep_bench.py [--trials 20] [--epochs 40] [--out results.json]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def diabetes_csv(folder: Path) -> str:
    from sklearn.datasets import load_diabetes

    frame = load_diabetes(as_frame=True).frame  # bundled with scikit-learn: no download
    path = folder / "diabetes.csv"
    frame.to_csv(path, index=False)
    return str(path)


def bench(source: str, target: str | None, trials: int, epochs: int,
          anchor_epochs: int | None = None) -> dict:
    from core.store import RunStore
    from core.sweeps import create_sweep, run_sweep
    from core.tasks import get_task
    from core.train import train

    task = get_task("tabular")
    store = RunStore()
    default = task.default_config("house_prices")
    if target:
        default = default.replace(data={"source": source, "target": target})
    default = default.replace(train={"device": "cpu"})
    if anchor_epochs:  # a loaded machine: the anchor capped like the sweeps (say so with figures)
        default = default.replace(train={"epochs": anchor_epochs})
    started = time.perf_counter()
    anchor = train(default, store)
    out = {"source": source, "default_test_rmse": anchor.metrics["test_rmse"],
           "default_seconds": time.perf_counter() - started}
    base = default.replace(train={"epochs": epochs, "patience": 8})
    for pruner in ("median", "none"):
        sweep_id = create_sweep(base, None, n_trials=trials, pruner=pruner, store=store, seed=0)
        started = time.perf_counter()
        row = run_sweep(sweep_id, store, executor="inline")
        seconds = time.perf_counter() - started
        best = store.get_run(row["best_run_id"])["metrics"]
        runs = store._frame("SELECT status, tags FROM runs WHERE sweep_id=?", [sweep_id])
        out[pruner] = {"seconds": seconds, "best_test_rmse": best["test_rmse"],
                       "best_val_loss": row["best_value"], "trials_done": row["trials_done"],
                       "pruned": int(sum("pruned" in list(t) for t in runs["tags"]))}
        print(f"  {Path(source).name} pruner={pruner}: {seconds:.0f} s, best test RMSE "
              f"{best['test_rmse']:.4g}, pruned {out[pruner]['pruned']}", flush=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--anchor-epochs", type=int, default=None,
                        help="cap the default config's epochs too (default: the kind's own)")
    parser.add_argument("--out", default="")
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["LOUPE_HOME"] = str(Path(tmp) / "home")
        for source, target in (("sample:house_prices", None), (diabetes_csv(Path(tmp)), "target")):
            r = bench(source, target, args.trials, args.epochs, args.anchor_epochs)
            results.append(r)
            name = "house_prices" if target is None else "diabetes"
            for pruner in ("median", "none"):
                ratio = r[pruner]["best_test_rmse"] / r["default_test_rmse"]
                print(f"{name}: best test RMSE with pruner={pruner} {r[pruner]['best_test_rmse']:.4g}"
                      f" vs default config {r['default_test_rmse']:.4g} (ratio {ratio:.3f})")
            print(f"{name}: wall time with pruning / without = "
                  f"{r['median']['seconds']:.0f} s / {r['none']['seconds']:.0f} s "
                  f"(ratio {r['median']['seconds'] / r['none']['seconds']:.2f}); "
                  f"{r['median']['pruned']} of {args.trials} trials pruned", flush=True)
    if args.out:
        Path(args.out).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
