"""The network on a skewed positive target: raw scale (anchor) vs the scale Loupe picks, one run.

Data: the California-like table of ``data/make_housing_large.py`` with ``population`` (skewness
about 2.9, all positive) as the target, predicted from the other columns. Anchor ("raw"): the MLP
fitted on the standardised raw target, as before issue 16 item 4 (``choose_target_scale`` made a
no-op for that run). "Loupe": the default, where a ridge fit on both scales picks the network's
scale on validation. "log scale, forced": the network always on log(1 + y), to check the choice.
Same seeded split, same network settings; every figure on the test split in
target units.

    python benchmarks/log_target_bench.py [--rows 20640] [--epochs 40] [--target population]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_640)
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--target", default="population", help="a skewed positive column")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as home:
        os.environ["LOUPE_HOME"] = home
        import core.tasks.tabular as tabular
        from core.store import RunStore
        from core.train import train
        from data.make_housing_large import make_housing_large

        path = Path(home) / "housing.csv"
        make_housing_large(args.rows).drop(columns=["households"]).to_csv(path, index=False)
        cfg = tabular.TabularTask().default_config().replace(
            data={"source": str(path), "target": args.target}, model={"name": "mlp"},
            train={"epochs": args.epochs})
        store, rows = RunStore(), []
        chooser = tabular.choose_target_scale

        def forced_log(prep, train_rows, val_rows):  # noqa: ANN001, ANN202 - the log scale, untested
            trial = chooser(prep, train_rows, val_rows)
            prep.set_target_transform("log1p", train_rows[prep.target].to_numpy(dtype=float))
            return trial

        for label, pick in (("anchor: raw scale", lambda *a: {}), ("log scale, forced", forced_log),
                            ("Loupe: scale chosen", chooser)):
            tabular.choose_target_scale = pick
            started = time.perf_counter()
            result = train(cfg, store)
            seconds = time.perf_counter() - started
            report = json.loads((store.run_dir(result.run_id) / "report.json").read_text())
            chosen = report.get("network_target_transform") or {}
            used = "log1p" if pick is forced_log else chosen.get("used", "none")
            rows.append((label, used, result.metrics["test_rmse"], result.metrics["test_r2"], seconds))
        tabular.choose_target_scale = chooser
    anchor = rows[0][2]
    print(f"{'side':<22} {'scale':<6} {'test RMSE':>10} {'R2':>7} {'wall s':>7} {'RMSE vs anchor':>15}")
    for label, used, rmse, r2, seconds in rows:
        print(f"{label:<22} {used:<6} {rmse:>10,.1f} {r2:>7.3f} {seconds:>7.1f} {rmse / anchor:>15.3f}")


if __name__ == "__main__":
    main()
