"""Fine-tuned EfficientNet-Lite0 (Loupe's defaults) vs a linear probe on frozen Lite0 features.

The anchor is what a careful practitioner does first with 200 photos: logistic regression
(scikit-learn) on the pooled 1280-d features of the same ImageNet backbone. Both see the same
fixed, stratified 70/30 train/test split of the cats/dogs photos; the fine-tune carves its
validation images from the 70% (for early stopping), and the probe picks its C on those same
validation images, so neither looks at the test 30%.

    python benchmarks/image_transfer_bench.py [--photos ../shared/data/cats-dogs-photos]
        [--epochs N] [--image-size S]

Prints both test accuracies and their difference. Runs in a few minutes on 2 CPU cores.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core.datasets.image_transforms import eval_tensor  # noqa: E402
from core.models.efficientnet_lite import EfficientNetLite0, load_imagenet_weights  # noqa: E402
from core.tasks import get_task  # noqa: E402

DEFAULT_PHOTOS = ROOT.parent / "shared" / "data" / "cats-dogs-photos"


def split_folder(photos: Path, out: Path, seed: int = 0, train_share: float = 0.7) -> Path:
    """Copy the photos into out/train/<class> and out/test/<class>: a fixed 70/30 split."""
    rng = np.random.default_rng(seed)
    for class_dir in sorted(p for p in photos.iterdir() if p.is_dir()):
        files = sorted(p for p in class_dir.iterdir() if p.is_file())
        order = rng.permutation(len(files))
        cut = round(len(files) * train_share)
        for rank, index in enumerate(order):
            split = "train" if rank < cut else "test"
            target = out / split / class_dir.name
            target.mkdir(parents=True, exist_ok=True)
            shutil.copy2(files[index], target / files[index].name)
    return out


def fine_tune(folder: Path, epochs: int | None, image_size: int | None) -> tuple[dict, object]:
    from core.store import RunStore
    from core.train import train

    task = get_task("image")
    cfg = task.default_config().replace(data={"source": str(folder)})
    if epochs:
        cfg = cfg.replace(train={"epochs": epochs})
    if image_size:
        cfg = cfg.replace(model={"image_size": image_size})
    result = train(cfg, RunStore())
    return result.metrics, cfg


def features(model: EfficientNetLite0, dataset, batch: int = 32) -> tuple[np.ndarray, np.ndarray]:
    """Pooled backbone features with the eval transform (resize + centre crop)."""
    feats = []
    model.eval()
    with torch.inference_mode():
        for start in range(0, len(dataset), batch):
            idx = range(start, min(start + batch, len(dataset)))
            x = torch.stack([eval_tensor(dataset.pixels(i), dataset.prep) for i in idx])
            feats.append(model.features(x).numpy())
    return np.concatenate(feats), dataset.labels


def linear_probe(cfg) -> dict[str, float]:
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    data = get_task("image").load_data(cfg)  # identical split and decoding to the fine-tune
    backbone = EfficientNetLite0(1000)
    load_imagenet_weights(backbone)
    x_tr, y_tr = features(backbone, data.train)
    x_va, y_va = features(backbone, data.val)
    x_te, y_te = features(backbone, data.test)
    scaler = StandardScaler().fit(x_tr)
    best = None
    for c in (0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0):
        clf = LogisticRegression(C=c, max_iter=5000).fit(scaler.transform(x_tr), y_tr)
        val = float((clf.predict(scaler.transform(x_va)) == y_va).mean())
        if best is None or val > best[0]:
            best = (val, c, clf)
    val, c, clf = best
    test = float((clf.predict(scaler.transform(x_te)) == y_te).mean())
    return {"val_accuracy": val, "test_accuracy": test, "C": c,
            "train": len(y_tr), "val": len(y_va), "test": len(y_te)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=Path, default=DEFAULT_PHOTOS)
    parser.add_argument("--epochs", type=int, default=None, help="default: the task's default")
    parser.add_argument("--image-size", type=int, default=None)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 2)
    args = parser.parse_args()
    if not args.photos.is_dir():
        sys.exit(f"no photos at {args.photos}: pass --photos DIR (class folders of images)")
    torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as tmp:
        os.environ.setdefault("LOUPE_HOME", str(Path(tmp) / "home"))
        folder = split_folder(args.photos, Path(tmp) / "split")
        started = time.perf_counter()
        tuned, cfg = fine_tune(folder, args.epochs, args.image_size)
        tune_s = time.perf_counter() - started
        started = time.perf_counter()
        probe = linear_probe(cfg)
        probe_s = time.perf_counter() - started
    print(f"device: CPU, {torch.get_num_threads()} threads; model {cfg.model.name} "
          f"@{cfg.model.image_size}px, {cfg.train.epochs} epochs max, lr {cfg.train.lr}")
    print(f"split: train {probe['train']} / val {probe['val']} (carved from the 70%) / "
          f"test {probe['test']}")
    print(f"fine-tuned Lite0 (Loupe defaults):    test accuracy {tuned['test_accuracy']:.4f}  "
          f"(val {tuned['val_accuracy']:.4f}, {tune_s:.0f} s)")
    print(f"logistic regression, frozen features: test accuracy {probe['test_accuracy']:.4f}  "
          f"(val {probe['val_accuracy']:.4f}, C={probe['C']}, {probe_s:.0f} s)")
    diff = tuned["test_accuracy"] - probe["test_accuracy"]
    verdict = "fine-tune wins" if diff > 0 else ("tie" if diff == 0 else "probe wins")
    print(f"ratio line: fine-tune - probe = {diff * 100:+.1f} points "
          f"({tuned['test_accuracy']:.4f} vs {probe['test_accuracy']:.4f}): {verdict}")


if __name__ == "__main__":
    main()
