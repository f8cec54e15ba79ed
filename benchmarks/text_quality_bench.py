"""Text quality with default settings: LP-FT on vs off (probe head start, keep-the-probe, automatic
epochs/warm-up), both measured in one run.

Two cases, each trained twice with Loupe's defaults (the only difference is ``TextTask.lp_ft``):
1. ``sample:reviews`` (3,000 generated reviews; the sample's own 1-epoch default);
2. a seeded 1,200-row subset of it with 20% of the labels flipped, written to a CSV, so it is
   "your own data" and gets the general defaults (before: 3 epochs, warm-up 0.1; after: the
   automatic schedule). Besides Loupe's own (noisy) test split, each model is scored on the other
   reviews (400 by default) with their clean labels, through the saved artifact's prediction path.

The anchor is the same pipeline with LP-FT off (what Loupe did before). Ratios are after / before.

    .venv/bin/python benchmarks/text_quality_bench.py             # ~30 min on a busy 2-core CPU
    .venv/bin/python benchmarks/text_quality_bench.py --only noisy --subset 600
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402


def parse() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--only", choices=("sample", "noisy"), default=None, help="run one case only")
    p.add_argument("--subset", type=int, default=1200, help="rows in the noisy subset")
    p.add_argument("--noise", type=float, default=0.2, help="share of subset labels flipped")
    p.add_argument("--clean", type=int, default=400, help="clean unseen reviews scored per model")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="cpu")
    return p.parse_args()


def noisy_subset(frame: pd.DataFrame, rows: int, noise: float, seed: int, folder: Path,
                 clean: int) -> tuple[Path, pd.DataFrame]:
    """(CSV of ``rows`` reviews with ``noise`` of the labels flipped, ``clean`` other reviews)."""
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(frame))
    subset, rest = frame.iloc[order[:rows]].copy(), frame.iloc[order[rows:]].copy()
    labels = sorted(subset["label"].unique())
    flip = rng.random(len(subset)) < noise
    subset.loc[flip, "label"] = [labels[1 - labels.index(v)] for v in subset.loc[flip, "label"]]
    path = folder / f"reviews_{rows}_noisy.csv"
    subset[["text", "label"]].to_csv(path, index=False)
    return path, rest.iloc[:clean]


def train_once(cfg, lp_ft: bool, home: Path) -> dict:  # noqa: ANN001
    os.environ["LOUPE_HOME"] = str(home)
    from core.store import RunStore
    from core.tasks import get_task
    from core.train import train

    task = get_task("text")
    task.lp_ft = lp_ft
    started = time.perf_counter()
    result = train(cfg, RunStore())
    seconds = time.perf_counter() - started
    if result.status != "completed":
        raise SystemExit(f"training ended {result.status}")
    notes = [n for n in result.report.get("notices", []) if "probe" in n or "schedule" in n]
    return {"metrics": result.metrics, "seconds": seconds, "artifact": result.artifact_dir,
            "epochs": RunStore().config(result.run_id).train.epochs, "notes": notes,
            "kept": result.report.get("kept_epoch")}


def clean_accuracy(artifact: Path, rest: pd.DataFrame) -> float:
    from core.tasks import get_task

    predictor = get_task("text").load_predictor(artifact, "cpu")
    probs = predictor.predict_proba(rest["text"].tolist())
    predicted = np.array(predictor.labels)[probs.argmax(axis=1)]
    return float((predicted == rest["label"].to_numpy()).mean())


def show(name: str, before: dict, after: dict, clean: tuple[float, float] | None) -> None:
    print(f"\n== {name}")
    print(f"{'':10s} {'epochs':>6s} {'kept':>5s} {'test acc':>9s} {'test F1':>8s} "
          f"{'clean acc':>9s} {'probe val F1':>12s} {'seconds':>8s}")
    for label, res, extra in (("before", before, clean and clean[0]),
                              ("after", after, clean and clean[1])):
        m = res["metrics"]
        probe = m.get("start_val_macro_f1")
        print(f"{label:10s} {res['epochs']:6d} {str(res['kept']):>5s} {m['test_accuracy']:9.3f} "
              f"{m['test_macro_f1']:8.3f} {'' if extra is None else f'{extra:9.3f}':>9s} "
              f"{'' if probe is None else f'{probe:12.3f}':>12s} {res['seconds']:8.0f}")
    b, a = before["metrics"], after["metrics"]
    print(f"ratio after/before: test accuracy {a['test_accuracy'] / b['test_accuracy']:.3f}x, "
          f"wall time {after['seconds'] / before['seconds']:.2f}x"
          + (f", clean accuracy {clean[1] / clean[0]:.3f}x" if clean else ""))
    for note in after["notes"]:
        print(f"  note: {note}")


def main() -> None:
    args = parse()
    from core.tasks import get_task

    task = get_task("text")
    root = Path(tempfile.mkdtemp(prefix="loupe-textq-"))
    if args.only in (None, "noisy"):
        frame = task.sample_frame("reviews")
        path, rest = noisy_subset(frame, args.subset, args.noise, args.seed, root,
                                  args.clean)
        cfg = task.default_config().replace(data={"source": str(path)},
                                            train={"device": args.device})
        before = train_once(cfg, False, root / "c")
        after = train_once(cfg, True, root / "d")
        clean = (clean_accuracy(before["artifact"], rest), clean_accuracy(after["artifact"], rest))
        show(f"{args.subset} reviews, {args.noise:.0%} labels flipped (general defaults); "
             f"clean = the other {len(rest):,} reviews", before, after, clean)

    if args.only in (None, "sample"):
        cfg = task.default_config("reviews").replace(train={"device": args.device})
        before = train_once(cfg, False, root / "a")
        after = train_once(cfg, True, root / "b")
        show("sample:reviews (sample defaults)", before, after, None)

if __name__ == "__main__":
    main()
