"""Write the generated coloured-shapes image set to disk as ``<out>/<shape>/<n>.png``.

The same images back ``sample:shapes`` (generated in memory by ``core.datasets.image_samples``);
on disk they exercise the folder/zip path end to end, e.g. for tests and for trying the upload
page:  ``python -m data.make_shapes /tmp/shapes --per-class 40 --zip``.
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

from PIL import Image

from core.datasets.image_samples import shapes


def make_shapes(
    out_dir: str | Path,
    per_class: int = 40,
    size: int = 32,
    seed: int = 0,
    fmt: str = "png",
) -> Path:
    """Write ``per_class`` images of each shape under ``out_dir`` and return it."""
    out = Path(out_dir)
    arrays, labels, names = shapes(per_class=per_class, size=size, seed=seed)
    counters = dict.fromkeys(names, 0)
    for array, label in zip(arrays, labels, strict=True):
        name = names[label]
        folder = out / name
        folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray(array).save(folder / f"{name}_{counters[name]:03d}.{fmt}")
        counters[name] += 1
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--per-class", type=int, default=40)
    parser.add_argument("--size", type=int, default=32)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--format", default="png", choices=["png", "jpg", "webp", "bmp"])
    parser.add_argument("--zip", action="store_true", help="also write <out_dir>.zip")
    args = parser.parse_args(argv)
    out = make_shapes(args.out_dir, args.per_class, args.size, args.seed, args.format)
    if args.zip:
        archive = shutil.make_archive(str(out), "zip", root_dir=out)
        print(f"wrote {archive}")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
