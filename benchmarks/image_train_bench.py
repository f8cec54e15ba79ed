"""Training throughput (images/s): Loupe's loop vs a plain, tutorial-style PyTorch loop.

Same images, model, batch size, optimiser (AdamW), precision (fp32 on CPU), thread count and
number of epochs, run side by side in one process. Both sides are warmed up first (one untimed
epoch each: first CUDA context, kernels, file cache; ``--no-warmup`` skips it), then measured in
alternating order round by round (Loupe, plain, plain, Loupe, ...) so a busy machine or a warming
GPU slows both alike; medians over ``--rounds``. Both sides train on the CPU (the plain loop has
no device code). The anchor is the loop most tutorials show: a Dataset that opens and decodes
every JPEG with PIL on every epoch, random-resized-crop + flip + normalise, a shuffling
DataLoader. Loupe decodes each image once at load time (that is also its validation pass) and
keeps the pixels in memory, so its epochs only crop, flip and jitter; the decode-once cost is
shown separately and also folded into an end-to-end figure.

    python benchmarks/image_train_bench.py [--photos DIR] [--configs efficientnet_lite0:160
        small_cnn:64] [--epochs 2] [--batch 32] [--rounds 1] [--threads 2] [--no-warmup]

Without the photos it generates 300 coloured-shape JPEGs (256 px) to train on.
"""

from __future__ import annotations

import argparse
import math
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch.utils.data import DataLoader, Dataset

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core.models import image_models as im  # noqa: E402
from core.tasks import get_task  # noqa: E402

DEFAULT_PHOTOS = ROOT.parent / "shared" / "data" / "cats-dogs-photos"


class TutorialDataset(Dataset):
    """Decode from disk on every access, like a torchvision ImageFolder + transforms tutorial."""

    def __init__(self, items: list[tuple[str, int]], size: int, mean: tuple, std: tuple) -> None:
        self.items, self.size = items, size
        self.mean = torch.tensor(mean).view(3, 1, 1)
        self.std = torch.tensor(std).view(3, 1, 1)

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        path, label = self.items[index]
        image = Image.open(path).convert("RGB")
        width, height = image.size
        box = (0, 0, width, height)
        for _ in range(10):  # RandomResizedCrop(scale=(0.35, 1), ratio=(3/4, 4/3))
            area = width * height * random.uniform(0.35, 1.0)
            ratio = math.exp(random.uniform(math.log(3 / 4), math.log(4 / 3)))
            w, h = round(math.sqrt(area * ratio)), round(math.sqrt(area / ratio))
            if 0 < w <= width and 0 < h <= height:
                left, top = random.randint(0, width - w), random.randint(0, height - h)
                box = (left, top, left + w, top + h)
                break
        image = image.resize((self.size, self.size), Image.Resampling.BILINEAR, box=box)
        if random.random() < 0.5:
            image = image.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
        x = torch.from_numpy(np.asarray(image, dtype=np.float32) / 255.0).permute(2, 0, 1)
        return (x - self.mean) / self.std, label


def plain_loop(items, model_name: str, size: int, labels: list[str], epochs: int, batch: int,
               lr: float) -> float:
    """Images/s of the tutorial loop (training steps and their data loading only)."""
    spec = im.resolve(model_name)
    torch.manual_seed(0)
    model = im.build(spec, labels, pretrained=spec.architecture != im.SMALL_CNN)
    model.train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    loader = DataLoader(TutorialDataset(items, size, spec.mean, spec.std), batch_size=batch,
                        shuffle=True, num_workers=0)
    seen, started = 0, time.perf_counter()
    for _ in range(epochs):
        for x, y in loader:
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
            seen += len(y)
    return seen / (time.perf_counter() - started)


def loupe_loop(cfg) -> tuple[float, float, int]:
    """(loop images/s, decode-once seconds at load, training images) through core.train."""
    from core.store import RunStore
    from core.train import train

    task = get_task("image")
    started = time.perf_counter()
    data = task.load_data(cfg)  # timed on its own: the decode-once + validation pass
    load_s = time.perf_counter() - started
    store = RunStore()
    result = train(cfg, store)
    return store.system(result.run_id)["samples_per_s"], load_s, len(data.train)


def shapes_folder(out: Path) -> Path:
    from data.make_shapes import make_shapes

    return make_shapes(out, per_class=100, size=256, fmt="jpg")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=Path, default=DEFAULT_PHOTOS)
    parser.add_argument("--configs", nargs="+", default=["efficientnet_lite0:160", "small_cnn:64"])
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--warmup", action=argparse.BooleanOptionalAction, default=True,
                        help="one untimed epoch of each side before measuring")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as tmp:
        os.environ.setdefault("LOUPE_HOME", str(Path(tmp) / "home"))
        source = args.photos if args.photos.is_dir() else shapes_folder(Path(tmp) / "shapes")
        print(f"data: {source}; CPU threads {torch.get_num_threads()}; load average "
              f"{os.getloadavg()[0]:.1f}; epochs {args.epochs}, batch {args.batch}, fp32")
        for spec in args.configs:
            name, size = spec.split(":")
            run_config(get_task("image"), source, name, int(size), args)


def run_config(task, source: Path, name: str, size: int, args) -> None:
    cfg = task.default_config().replace(
        data={"source": str(source)},
        model={"name": name, "image_size": size, "pretrained": name != im.SMALL_CNN},
        train={"epochs": args.epochs, "batch_size": args.batch, "patience": 0, "device": "cpu",
               "precision": "fp32", "num_workers": 0},
    )
    data = task.load_data(cfg)
    items = [(data.train.record(i).path, int(data.train.labels[i])) for i in range(len(data.train))]
    labels, n_train = data.meta["labels"], len(data.train)
    if args.warmup:  # untimed, both sides
        loupe_loop(cfg.replace(train={"epochs": 1}))
        plain_loop(items, name, size, labels, 1, args.batch, cfg.train.lr)
    ours, plain, loads = [], [], []
    for r in range(args.rounds):
        for side in (("loupe", "plain") if r % 2 == 0 else ("plain", "loupe")):
            if side == "loupe":
                rate, load_s, n_train = loupe_loop(cfg)
                ours.append(rate)
                loads.append(load_s)
            else:
                plain.append(plain_loop(items, name, size, labels, args.epochs, args.batch, cfg.train.lr))
    ours_rate, plain_rate = statistics.median(ours), statistics.median(plain)
    load_s = statistics.median(loads)
    images = n_train * args.epochs
    end_to_end = images / (images / ours_rate + load_s)
    total = sum(data.meta["rows"].values())
    print(f"[{name} @{size}px] Loupe loop {ours_rate:.1f} img/s | plain loop {plain_rate:.1f} "
          f"img/s | Loupe's decode-once load: {load_s:.1f} s for {total} images")
    print(f"ratio line [{name} @{size}px]: Loupe/plain = {ours_rate / plain_rate:.2f}x "
          f"(training steps); {end_to_end / plain_rate:.2f}x end to end over {args.epochs} epochs "
          f"including the decode-once load")


if __name__ == "__main__":
    main()
