"""Tabular quality with default settings, before and after issue 16, side by side in one run.

Anchor ("before"): the previous default, the MLP 128-64 (150 epochs, patience 20). "After": the new
default ``auto`` (trees and network, the validation winner kept) and ``trees`` alone. Reference:
scikit-learn's ``HistGradientBoostingRegressor`` with its defaults on the same train split (the
issue's yardstick). Every figure is on the same seeded 15% test split; wall time includes data
loading, fitting, evaluation and saving.

    python benchmarks/tabular_quality_bench.py [--datasets house_prices,diabetes,housing_large]
        [--large-rows 20640]

Prints one table per dataset with test RMSE, R², wall seconds and the ratio to the anchor.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def source(name: str, rows: int, folder: Path) -> tuple[str, str]:
    if name != "housing_large":
        from core.datasets.samples import TABULAR_SAMPLES, sample_source

        return sample_source(name), TABULAR_SAMPLES[name][1]
    from data.make_housing_large import make_housing_large

    path = folder / "housing_large.csv"
    make_housing_large(rows).to_csv(path, index=False)
    return str(path), "median_house_value"


def run(name: str, rows: int, folder: Path) -> list[tuple[str, float, float, float, str]]:
    from core.store import RunStore
    from core.tasks import get_task
    from core.train import train

    task = get_task("tabular")
    src, target = source(name, rows, folder)
    base = task.default_config().replace(data={"source": src, "target": target})
    out = []
    store = RunStore()
    for label, model in (("before: MLP (old default)", "mlp"), ("after: auto (new default)", "auto"),
                         ("after: trees", "trees")):
        started = time.perf_counter()
        result = train(base.replace(model={"name": model}), store)
        seconds = time.perf_counter() - started
        report = store.run_dir(result.run_id) / "report.json"
        import json

        info = json.loads(report.read_text())
        note = info.get("model_choice", {}).get("chosen", "")
        if info.get("target_transform"):
            note += f", target scale {info['target_transform']['used']}"
        out.append((label, result.metrics["test_rmse"], result.metrics["test_r2"], seconds, note))
        print(f"  {name}: {out[-1]}", flush=True)  # partial results survive a long run
    out.append(hist_gbm(task, base))
    return out


def hist_gbm(task, cfg) -> tuple[str, float, float, float, str]:
    """scikit-learn's HistGradientBoostingRegressor, defaults, on the same split."""
    from sklearn.ensemble import HistGradientBoostingRegressor

    data = task.load_data(cfg)
    cols = data.meta["tree_columns"]
    started = time.perf_counter()
    from core.models.trees import TreeColumns

    columns = TreeColumns.from_dict(cols)
    x = {s: columns.transform(data.raw[s]) for s in ("train", "test")}
    y = {s: data.raw[s][columns.target].to_numpy(dtype=float) for s in ("train", "test")}
    mask = [i in columns.categorical_indices for i in range(len(columns.columns))]
    model = HistGradientBoostingRegressor(categorical_features=mask or None, random_state=0)
    pred = model.fit(x["train"], y["train"]).predict(x["test"])
    seconds = time.perf_counter() - started
    rmse = float(np.sqrt(np.mean((pred - y["test"]) ** 2)))
    r2 = 1 - float(np.sum((pred - y["test"]) ** 2) / np.sum((y["test"] - y["test"].mean()) ** 2))
    return ("reference: sklearn HistGradientBoosting", rmse, r2, seconds, "fit only")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--datasets", default="diabetes,house_prices,housing_large")
    parser.add_argument("--large-rows", type=int, default=20_640)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as home:
        os.environ["LOUPE_HOME"] = home
        for name in args.datasets.split(","):
            rows = run(name, args.large_rows, Path(home))
            anchor_rmse, anchor_s = rows[0][1], rows[0][3]
            print(f"\n### {name}\n| model | test RMSE | R² | wall s | RMSE vs MLP | time vs MLP | note |")
            print("|---|---|---|---|---|---|---|")
            for label, rmse, r2, seconds, note in rows:
                print(f"| {label} | {rmse:,.4g} | {r2:.3f} | {seconds:.1f} | {rmse / anchor_rmse:.3f} "
                      f"| {seconds / anchor_s:.3f} | {note} |", flush=True)


if __name__ == "__main__":
    main()
