"""`loupe check` on planted label noise (issue 19): how many flipped labels it finds, how long it
takes, and what excluding its flags does to the default model.

Two datasets: ``reviews`` (the 3,000-review sample) and ``photos`` (a folder of class sub-folders,
e.g. ../shared/data/cats-dogs-photos). 20% of the examples are held out first, with their true
labels, as a clean test set neither model trains on. In the rest, ``--flip`` (5%) of the labels
are flipped at random (photos: moved to another class folder). Then:
1. the default model trains on the noisy data (anchor) -> accuracy on the clean test set;
2. ``check_run`` on that run: precision at k (k = the number flipped: how many of the k
   highest-scored label flags are flipped rows), recall (flipped rows among all label flags),
   seconds;
3. the flagged rows are left out through the product's own path (``loupe review --all exclude
   --issue 'label issue'``: a reviewed version of the data, same split) and the same config
   trains again -> clean accuracy, and ``compare_versions`` on the run's own test split.

``--finetune``: the label issues come from the run's model fine-tuned once per fold (K
trainings) instead of the logistic regression on frozen embeddings.

    python benchmarks/datacheck_bench.py reviews [--flip 0.05] [--no-retrain]
    python benchmarks/datacheck_bench.py photos --folder ../shared/data/cats-dogs-photos [--finetune]
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np


def _train(task: str, source: Path, store, label_column: str | None = None) -> str:  # noqa: ANN001
    from core.tasks import get_task
    from core.train import train

    sample = None
    cfg = get_task(task).default_config(sample)
    cfg = cfg.replace(data={"source": str(source), "target": None, "text_column": None,
                            "label_column": label_column})
    result = train(cfg, store)
    assert result.status == "completed", result
    return result.run_id


def _clean_accuracy(run_id: str, test_path: Path) -> float:
    from core.batch_eval import evaluate_batch
    from core.predict import load_predictor

    predictor = load_predictor(run_id, device="cpu")
    evaluation = evaluate_batch(predictor.predict_file(test_path), predictor.labels)
    return float(evaluation.metrics["accuracy"])


def _score(check, flipped_rows: set[str]) -> dict[str, float]:  # noqa: ANN001
    flags = check.flags[check.flags["issue"] == "label issue"]
    k = len(flipped_rows)
    top = set(flags["row"].head(k))
    return {"flipped": k, "flagged": len(flags), "precision_at_k": len(top & flipped_rows) / max(1, k),
            "recall": len(set(flags["row"]) & flipped_rows) / max(1, k)}


def reviews(args: argparse.Namespace, home: Path, store) -> None:  # noqa: ANN001
    from core.datasets.texts import load_sample_frame

    frame = load_sample_frame("reviews")
    label = frame.columns[1]
    rng = np.random.default_rng(args.seed)
    order = rng.permutation(len(frame))
    cut = len(frame) // 5
    test, train = frame.iloc[order[:cut]], frame.iloc[order[cut:]].reset_index(drop=True)
    classes = sorted(train[label].unique())
    flipped = rng.choice(len(train), int(round(args.flip * len(train))), replace=False)
    noisy = train.copy()
    for i in flipped:
        noisy.loc[i, label] = next(c for c in classes if c != train.loc[i, label])
    test_path, noisy_path = home / "clean_test.csv", home / "noisy.csv"
    test.to_csv(test_path, index=False)
    noisy.to_csv(noisy_path, index=False)
    _run(args, store, "text", noisy_path, {f"row {i + 1}" for i in flipped}, test_path, label)


def photos(args: argparse.Namespace, home: Path, store) -> None:  # noqa: ANN001
    source = Path(args.folder).expanduser()
    classes = sorted(p.name for p in source.iterdir() if p.is_dir())
    files = sorted(p.relative_to(source) for p in source.rglob("*") if p.is_file() and p.parent != source)
    rng = np.random.default_rng(args.seed)
    order = rng.permutation(len(files))
    test_files = [files[i] for i in order[: len(files) // 5]]
    train_files = [files[i] for i in order[len(files) // 5:]]
    flipped = set(rng.choice(len(train_files), int(round(args.flip * len(train_files))), replace=False))
    noisy_root, test_root = home / "noisy", home / "clean_test"
    moved = set()
    for i, rel in enumerate(train_files):
        cls = rel.parts[0]
        if i in flipped:
            cls = next(c for c in classes if c != cls)
        target = noisy_root / cls / rel.name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source / rel, target)
        if i in flipped:
            moved.add(f"{cls}/{rel.name}")
    for rel in test_files:
        (test_root / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source / rel, test_root / rel)

    _run(args, store, "image", noisy_root, moved, test_root, None)


def _run(args, store, task, noisy, flipped_rows, test_path, label) -> None:  # noqa: ANN001
    from core.datacheck import check_run
    from core.datacheck.compare import compare_versions
    from core.datacheck.review import bulk_decisions
    from core.datacheck.versions import save_version
    from core.train import train

    anchor = _train(task, noisy, store, label)
    start = time.perf_counter()
    check = check_run(anchor, store, finetune=args.finetune)
    seconds = time.perf_counter() - start
    score = _score(check, flipped_rows)
    print(f"{task}: {score['flipped']} labels flipped of {sum(check.examples.values()):,}; "
          f"{score['flagged']} label flags; precision@k {score['precision_at_k']:.2f}, recall "
          f"{score['recall']:.2f}; check {seconds:.1f} s ({check.feature_note})")
    counts = check.counts
    print(f"  duplicates: {counts.get('exact duplicate', 0)} exact, {counts.get('near duplicate', 0)} "
          f"near, {counts.get('leakage', 0)} leakage")
    if args.no_retrain:
        return
    before = _clean_accuracy(anchor, test_path)
    version = save_version(anchor, bulk_decisions(check, "exclude", ["label issue"]), store)
    result = train(version.config, store)
    assert result.status == "completed", result
    after = _clean_accuracy(result.run_id, test_path)
    print(f"  clean test accuracy: trained on noisy data {before:.4f} (anchor), on the reviewed "
          f"version ({version.edits.summary()}) {after:.4f}; ratio {after / before:.3f}")
    diff = compare_versions(anchor, result.run_id, store)
    print(f"  compare on the run's own (noisy) test split: {diff.summary()}")
    print("  " + diff.metrics.round(4).to_string(index=False).replace("\n", "\n  "))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("dataset", choices=["reviews", "photos"])
    parser.add_argument("--folder", help="photos: a folder of class sub-folders")
    parser.add_argument("--flip", type=float, default=0.05)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-retrain", action="store_true")
    parser.add_argument("--finetune", action="store_true", help="the fine-tuned check (K trainings)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="loupe-check-bench-") as tmp:
        home = Path(tmp)
        os.environ["LOUPE_HOME"] = str(home / "home")
        from core.store import RunStore

        store = RunStore()
        (reviews if args.dataset == "reviews" else photos)(args, home, store)


if __name__ == "__main__":
    main()
