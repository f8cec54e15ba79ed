"""Image-classification data: a folder ``class/xxx.jpg`` or a zip of one, or a built-in sample.

Layouts (checked in this order):

* ``train/<class>/…`` (+ optional ``val/`` — also ``valid/``, ``validation/`` — and ``test/``):
  the folders are honoured. Without ``val/`` a stratified validation split is carved from train;
  without ``test/`` the test split is carved from train (``DataConfig.test_fraction`` of it).
* ``<class>/…``: stratified train/val/test split with ``val_fraction``/``test_fraction``.
* a single wrapping folder (``pets/<class>/…``, what zipping a folder produces) is looked through.

Files in nested folders under a class count for that class. Every candidate file is decoded once
while loading (in a thread pool): that is what finds truncated, corrupt and disguised files up
front, instead of crashing an epoch later, and the decoded pixels (at eval resolution) are kept
in memory while they fit in ``CACHE_BUDGET_BYTES`` so later epochs never decode a JPEG again.
Everything that is skipped is listed with its reason in the ingestion report. Symbolic links
inside the folder (to files or to folders) are never followed, here or at prediction time
(``core.tasks.image``): each is listed as skipped, so a linked class folder cannot vanish unseen.
"""

from __future__ import annotations

import hashlib
import os
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from core.datasets import image_cache
from core.datasets.image_dataset import ImagePool, ImageRecord, assign_splits
from core.datasets.image_transforms import IMAGE_SUFFIXES, ImageProblem, decode_image
from core.errors import LoupeError
from core.phases import phase

CACHE_BUDGET_BYTES = 1 << 30  # decoded pixels kept in RAM, at eval resolution
MIN_IMAGES_PER_CLASS = 5  # fewer is reported as too few to learn or evaluate reliably
REPORT_LIST_CAP = 200  # per-file entries kept in the report (the counts are always complete)
LINK_REASON = {False: "symbolic link (not followed)",
               True: "symbolic link to a folder (not followed; its images are not used)"}
SPLIT_DIRS = {"train": "train", "val": "val", "valid": "val", "validation": "val", "test": "test"}


@dataclass
class IngestionReport:
    """What was found, used and skipped, and why; shown to the user and kept in the run meta."""

    source: str
    layout: str = "class folders"
    files_seen: int = 0
    skipped: list[dict[str, str]] = field(default_factory=list)
    skipped_count: int = 0
    not_images: list[str] = field(default_factory=list)
    not_images_count: int = 0
    empty_classes: list[str] = field(default_factory=list)
    small_classes: dict[str, int] = field(default_factory=dict)
    classes: dict[str, int] = field(default_factory=dict)
    cached_images: int = 0
    cache_mb: float = 0.0
    decoded_from_cache: int = 0  # images whose pixels an earlier run decoded (image_cache)
    cache_entry: str = ""  # the decoded-pixels entry this load read or wrote (image_cache.entry_name)
    links_skipped: int = 0

    def skip(self, name: str, reason: str) -> None:
        self.skipped_count += 1
        if len(self.skipped) < REPORT_LIST_CAP:
            self.skipped.append({"file": masked(name), "reason": reason})

    def skip_link(self, name: str, is_dir: bool) -> None:
        self.links_skipped += 1
        self.skip(name + ("/" if is_dir else ""), LINK_REASON[is_dir])

    def ignore(self, name: str) -> None:
        self.not_images_count += 1
        if len(self.not_images) < REPORT_LIST_CAP:
            self.not_images.append(masked(name))

    def to_json(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items()}

    def notices(self) -> list[str]:
        """One line per thing the user should know, most important first."""
        lines = []
        if self.skipped_count:
            kinds = Counter(_reason_kind(s["reason"]) for s in self.skipped)
            detail = ", ".join(f"{n} {k}" for k, n in kinds.most_common())
            first = self.skipped[0]
            lines.append(
                f"Skipped {self.skipped_count} of {self.files_seen} image files ({detail}); "
                f"e.g. {first['file']}: {first['reason']}. The ingestion report lists them all."
            )
        if self.not_images_count:
            shown = ", ".join(self.not_images[:3])
            lines.append(f"Ignored {self.not_images_count} non-image files ({shown}…).")
        for name in self.empty_classes:
            lines.append(f"Class folder '{name}' has no usable images and was left out.")
        for name, count in self.small_classes.items():
            lines.append(
                f"Class '{name}' has only {count} images: too few to learn or evaluate reliably "
                f"(aim for {MIN_IMAGES_PER_CLASS * 4}+)."
            )
        if self.decoded_from_cache:
            lines.append(f"Reused the decoded pixels of {self.decoded_from_cache} images from the "
                         "cache (the files are byte-for-byte unchanged since an earlier run).")
        if self.layout not in ("class folders", "built-in sample"):  # only what deviates
            lines.append(f"Layout: {self.layout}.")
        return lines


def masked(name: str) -> str:
    """File names are user text ('Jane Doe passport.jpg'): masked before any report shows them."""
    from core.privacy import mask_text

    return mask_text(name)


def _reason_kind(reason: str) -> str:
    for key in ("decompression bomb", "not an image", "truncated or corrupt", "unsupported",
                "symbolic link"):
        if key in reason:
            return key
    return "unreadable"


# --- scanning -----------------------------------------------------------------------------
def _visible_dirs(folder: Path) -> list[Path]:
    return sorted(
        p for p in folder.iterdir()
        if p.is_dir() and not p.name.startswith((".", "__")) and not p.is_symlink()
    )


def _class_files(folder: Path, root: Path, report: IngestionReport) -> list[Path]:
    """Files under a class folder, recursively, skipping hidden files; symlinks are reported."""
    out = []
    for dirpath, dirnames, filenames in os.walk(folder):  # followlinks=False: links not entered
        dirnames[:] = sorted(d for d in dirnames if not d.startswith((".", "__")))
        for name in list(dirnames):
            if (Path(dirpath) / name).is_symlink():
                dirnames.remove(name)
                report.skip_link(str((Path(dirpath) / name).relative_to(root)), is_dir=True)
        for name in sorted(filenames):
            path = Path(dirpath) / name
            if name.startswith("."):
                continue
            if path.is_symlink():
                report.skip_link(str(path.relative_to(root)), is_dir=path.is_dir())
            else:
                out.append(path)
    return out


def _report_links(folder: Path, root: Path, report: IngestionReport) -> None:
    """Symbolic links directly in ``folder`` (a split or the root): listed, never followed."""
    for path in sorted(folder.iterdir()):
        if path.is_symlink() and not path.name.startswith("."):
            report.skip_link(str(path.relative_to(root)), is_dir=path.is_dir())


def find_layout(root: Path) -> tuple[dict[str, Path], str]:
    """Split name -> folder of class folders, and a description of the layout."""
    dirs = _visible_dirs(root)
    splits = {SPLIT_DIRS[d.name.lower()]: d for d in dirs if d.name.lower() in SPLIT_DIRS}
    if "train" in splits:
        held = [s for s in ("val", "test") if s in splits]
        carved = [s for s in ("val", "test") if s not in splits]
        text = "train/" + "".join(f" and {s}/" for s in held) + " folders honoured"
        if carved:
            text += "; " + " and ".join(carved) + " carved from train/"
        return splits, text
    loose = [p for p in root.iterdir() if p.is_file() and not p.name.startswith(".")]
    if len(dirs) == 1 and not loose and _visible_dirs(dirs[0]):
        return find_layout(dirs[0])  # a wrapping folder, as zipping a folder produces
    return {"all": root}, "class folders"


def scan_folder(
    root: Path, report: IngestionReport
) -> tuple[dict[str, dict[str, list[Path]]], str]:
    """split -> class name -> candidate image files. Non-image files are noted, not decoded."""
    splits, layout = find_layout(root)
    report.layout = layout
    found: dict[str, dict[str, list[Path]]] = {}
    for folder in sorted({root, *splits.values(), *(f.parent for f in splits.values())}):
        if folder == root or root in folder.parents:
            _report_links(folder, root, report)
    for split, folder in splits.items():
        for path in sorted(folder.iterdir()):
            if path.is_file() and not path.is_symlink() and not path.name.startswith("."):
                report.ignore(f"{path.relative_to(root)} (not inside a class folder)")
        for class_dir in _visible_dirs(folder):
            files = found.setdefault(split, {}).setdefault(class_dir.name, [])
            for path in _class_files(class_dir, root, report):
                if path.suffix.lower() in IMAGE_SUFFIXES:
                    files.append(path)
                else:
                    report.ignore(str(path.relative_to(root)))
    return found, layout


def decode_all(
    paths: list[Path], root: Path, short_side: int, report: IngestionReport
) -> tuple[list[int], list[np.ndarray | None], str, Callable[[], None]]:
    """Decode every file once (threads: Pillow releases the GIL while decoding), or reuse the
    pixels an earlier run decoded from exactly these files (``image_cache``: keyed by every
    file's name and content hash and the decode size).

    Returns the indices of usable files, their pixels (None past the in-memory budget), a
    content fingerprint (sha256 over names and bytes of the usable files) and ``remember``, which
    writes the cache entry: the caller calls it only once the data passed its checks, so a refused
    folder leaves nothing under LOUPE_HOME.
    """
    names = [str(path.relative_to(root)) for path in paths]
    workers = max(1, min(8, os.cpu_count() or 1))
    with ThreadPoolExecutor(workers) as pool:
        hashes = list(pool.map(_file_hash, paths))
    key = image_cache.content_key(f"decode:{short_side}", *(f"{n}\0{h}" for n, h in
                                                             zip(names, hashes, strict=True)))
    cached = image_cache.load_decoded(key, len(paths))
    if cached is not None:
        phase(f"Decoding images: reusing {len(paths)} from the cache (unchanged files)")
        decoded, problems = cached
        report.decoded_from_cache = len(paths) - len(problems)
    else:
        decoded, problems = _decode_files(paths, short_side, workers)
    digest = hashlib.sha256()
    usable: list[int] = []
    arrays: list[np.ndarray | None] = []
    used_bytes = 0
    for index, (name, array) in enumerate(zip(names, decoded, strict=True)):
        problem = problems.get(index) or hashes[index].startswith("!") and hashes[index][1:]
        if problem or array is None:
            report.skip(name, problem or "could not be decoded")
            continue
        digest.update(name.encode() + b"\0" + bytes.fromhex(hashes[index]))
        usable.append(index)
        if used_bytes + array.nbytes <= CACHE_BUDGET_BYTES:
            used_bytes += array.nbytes
            arrays.append(array)
        else:
            arrays.append(None)  # over budget: decoded again from disk when needed
    report.cached_images = sum(a is not None for a in arrays)
    report.cache_mb = round(used_bytes / 2**20, 1)

    def remember() -> None:
        if cached is not None or (not any(h.startswith("!") for h in hashes)
                                  and image_cache.save_decoded(key, decoded, problems)):
            report.cache_entry = image_cache.entry_name("decoded", key)

    return usable, arrays, digest.hexdigest(), remember


def _file_hash(path: Path) -> str:
    """sha256 of the file's bytes, or ``!reason`` when it cannot be read."""
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError as exc:
        return f"!cannot be read ({exc.strerror})"


def _decode_files(paths: list[Path], short_side: int, workers: int
                  ) -> tuple[list[np.ndarray | None], dict[int, str]]:
    """Every file's pixels (None when it cannot be used) and the reasons, by file index."""

    def work(path: Path) -> np.ndarray | str:
        try:
            return decode_image(path, short_side)
        except ImageProblem as exc:
            return str(exc)

    tracker = phase("Decoding images", total=len(paths), unit="images")
    decoded: list[np.ndarray | None] = []
    problems: dict[int, str] = {}
    with ThreadPoolExecutor(workers) as pool:
        for index, result in enumerate(pool.map(work, paths)):
            tracker.update(index + 1)
            if isinstance(result, str):
                problems[index] = result
            decoded.append(None if isinstance(result, str) else result)
    return decoded, problems


def _empty_note(report: IngestionReport) -> str:
    if not report.empty_classes:
        return ""
    return f" Class folders without usable images: {', '.join(report.empty_classes)}."


def no_usable_images_error(root: Path, report: IngestionReport) -> LoupeError:
    """The error when nothing is left, naming the commonest problem."""
    if report.skipped:
        first = report.skipped[0]
        return LoupeError(
            f"No usable images in {root}: all {report.skipped_count} image files were skipped "
            f"(e.g. {first['file']}: {first['reason']}).",
            "add readable JPEG/PNG/WebP/BMP/GIF images under one folder per class.",
        )
    return LoupeError(
        f"No images found in {root}"
        + (f" ({report.not_images_count} other files ignored)" if report.not_images_count else "")
        + ".",
        "put images in one folder per class, e.g. data/cats/1.jpg and data/dogs/2.jpg.",
    )


# --- prediction inputs --------------------------------------------------------------------
def input_files(root: Path) -> list[Path]:
    """Image files under ``root`` plus the symbolic links met on the way (not entered)."""
    found = []
    for dirpath, dirnames, filenames in os.walk(root):  # followlinks=False
        here = Path(dirpath)
        for name in list(dirnames):
            if (here / name).is_symlink():
                dirnames.remove(name)
                found.append(here / name)
        found += [here / n for n in filenames if (here / n).suffix.lower() in IMAGE_SUFFIXES]
    return found


def display_names(items: list[Any]) -> list[str]:
    """Paths by their place relative to the folder they share (``circle/1.png`` and
    ``square/1.png`` stay apart); other inputs by position. Masked: names are user text."""
    paths = [Path(i) for i in items if isinstance(i, (str, Path))]
    base = Path(os.path.commonpath([p.parent for p in paths])) if paths else None
    names = []
    for index, item in enumerate(items):
        if isinstance(item, (str, Path)) and base is not None:
            names.append(masked(Path(item).relative_to(base).as_posix()))
        else:
            names.append(f"image {index + 1}")
    return names


# --- loading ------------------------------------------------------------------------------
@dataclass
class LoadedImages:
    """Everything the image task needs from a source, before any model exists."""

    pool: ImagePool
    label_names: list[str]
    splits: dict[str, list[int]]
    report: IngestionReport
    fingerprint: str


def load_folder(
    root: Path,
    short_side: int,
    val_fraction: float,
    test_fraction: float,
    seed: int,
    max_images: int | None = None,
    source_name: str | None = None,
) -> LoadedImages:
    """Scan, decode, validate and split a dataset folder (see the module docstring)."""
    report = IngestionReport(source=source_name or str(root))
    phase("Finding images")
    found, _ = scan_folder(root, report)
    class_names = sorted({name for classes in found.values() for name in classes})
    entries = [
        (split, name, path)
        for split, classes in found.items()
        for name in sorted(classes)
        for path in classes[name]
    ]
    report.files_seen = len(entries) + report.links_skipped
    if max_images and len(entries) > max_images:
        keep = np.random.default_rng(seed).choice(len(entries), max_images, replace=False)
        entries = [entries[i] for i in sorted(keep)]
        report.layout += f"; a random {max_images:,} of {report.files_seen:,} images used"
    usable, arrays, fingerprint, remember = decode_all(
        [p for _, _, p in entries], root, short_side, report)
    counts = Counter(entries[i][1] for i in usable)
    report.empty_classes = [c for c in class_names if counts[c] == 0]
    labels = [c for c in class_names if counts[c] > 0]
    if not usable:
        raise no_usable_images_error(root, report)
    if len(labels) < 2:
        raise LoupeError(
            f"{root} has only one class with usable images ('{labels[0]}'): a classifier needs at "
            f"least 2 classes.{_empty_note(report)}",
            "add a folder of images for each other class next to it, e.g. data/cats and data/dogs.",
        )
    label_id = {name: i for i, name in enumerate(labels)}
    records: list[ImageRecord] = []
    pixels: list[np.ndarray | None] = []
    by_split: dict[str, list[int]] = {}
    for index, array in zip(usable, arrays, strict=True):
        split, name, path = entries[index]
        by_split.setdefault(split, []).append(len(records))
        records.append(ImageRecord(str(path.relative_to(root)), label_id[name], str(path)))
        pixels.append(array)
    report.classes = {name: counts[name] for name in labels}
    report.small_classes = {n: c for n, c in report.classes.items() if c < MIN_IMAGES_PER_CLASS}
    splits = assign_splits([r.label for r in records], by_split, val_fraction, test_fraction, seed)
    pool = ImagePool(records, pixels, short_side)
    remember()  # only now: a folder refused above leaves no cache entry behind
    return LoadedImages(pool, labels, splits, report, fingerprint)


