"""On-disk cache of an image run's fixed costs: the decoded pixels of a dataset and the frozen
backbone's features that the LP-FT head fit reads. A second run on the same photos skips both.

Why content keys: every entry is named by a sha256 over what produced it (each file's name and
bytes plus the decode size; or the exact pixels, the model's weights and the preprocessing), so
changing, adding, removing or moving a photo, or changing the model or the input size, simply
asks for another entry; nothing is ever "invalidated" in place. Entries are ``.npz`` files read
without pickle, written through a temporary sibling and a rename (a killed run leaves no half
file), touched on use and pruned oldest-first past a size budget. An entry that cannot be read
is deleted and rebuilt by the caller, never an error.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from core.paths import loupe_home

VERSION = 1  # bump when what an entry holds, or how its pixels/features are computed, changes
BUDGET_BYTES = {"decoded": 2 << 30, "features": 256 << 20}  # per kind, oldest pruned first
MAX_DECODED_ENTRY = 1 << 30  # a dataset with more decoded pixels than this is not cached


def cache_dir(kind: str) -> Path:
    """``<LOUPE_HOME>/cache/images/<kind>`` (created on use)."""
    folder = loupe_home() / "cache" / "images" / kind
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def entry_name(kind: str, key: str) -> str:
    """The entry's path under ``<LOUPE_HOME>/cache``: what a run lists in its ``cache.json`` so
    that deleting the run deletes the pixels and features cached from its photos
    (``core.store.runs.forget_cache_entries``)."""
    return f"images/{kind}/{key}.npz"


def content_key(*parts: str | bytes | np.ndarray) -> str:
    """sha256 over the parts (arrays by dtype, shape and bytes), each part delimited."""
    digest = hashlib.sha256(f"loupe-image-cache-v{VERSION}".encode())
    for part in parts:
        if isinstance(part, np.ndarray):
            digest.update(f"{part.dtype}{part.shape}".encode())
            digest.update(np.ascontiguousarray(part).data)
        else:
            digest.update(part.encode() if isinstance(part, str) else part)
        digest.update(b"\0")
    return digest.hexdigest()


def load(kind: str, key: str) -> tuple[dict[str, np.ndarray], dict[str, Any]] | None:
    """The arrays and JSON meta stored under ``key``, or None (missing, or unreadable: deleted)."""
    try:
        path = cache_dir(kind) / f"{key}.npz"
    except OSError:
        return None
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as stored:
            arrays = {name: stored[name] for name in stored.files if name != "meta"}
            meta = json.loads(stored["meta"].tobytes().decode())
        if meta.get("key") != key:
            raise ValueError("entry key mismatch")
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile, UnicodeDecodeError):
        path.unlink(missing_ok=True)  # corrupt or foreign: the caller recomputes and rewrites it
        return None
    with contextlib.suppress(OSError):
        os.utime(path)  # recently used: pruned last
    return arrays, meta


def save(kind: str, key: str, arrays: dict[str, np.ndarray], meta: dict[str, Any]) -> bool:
    """Store an entry atomically, then prune the kind's folder to its budget. False when the
    cache cannot be written (a full disk, a read-only home): the run goes on uncached."""
    try:
        folder = cache_dir(kind)
        payload = np.frombuffer(json.dumps({**meta, "key": key}).encode(), dtype=np.uint8)
        fd, tmp = tempfile.mkstemp(prefix=f".{key[:16]}.", suffix=".part", dir=folder)
        try:
            with os.fdopen(fd, "wb") as handle:
                np.savez(handle, meta=payload, **arrays)
            os.replace(tmp, folder / f"{key}.npz")
        finally:
            Path(tmp).unlink(missing_ok=True)
        prune(folder, BUDGET_BYTES.get(kind, 256 << 20))
    except OSError:
        return False
    return True


def prune(folder: Path, budget: int) -> None:
    """Delete the least recently used entries until the folder holds at most ``budget`` bytes
    (the newest entry always stays)."""
    entries = []
    for path in folder.glob("*.npz"):
        with contextlib.suppress(OSError):
            stat = path.stat()
            entries.append((stat.st_mtime, stat.st_size, path))
    entries.sort(reverse=True)
    total = 0
    for index, (_, size, path) in enumerate(entries):
        total += size
        if total > budget and index > 0:
            path.unlink(missing_ok=True)


# --- decoded pixels -------------------------------------------------------------------------
def save_decoded(key: str, arrays: list[np.ndarray | None], problems: dict[int, str]) -> bool:
    """Every file's outcome under ``key``: its pixels, or why it was skipped. Not stored when any
    usable image was left undecoded (over the in-memory budget) or the set is too large."""
    kept = [a for a in arrays if a is not None]
    if len(kept) + len(problems) != len(arrays) or sum(a.nbytes for a in kept) > MAX_DECODED_ENTRY:
        return False
    shapes = np.array([a.shape for a in kept], dtype=np.int64).reshape(-1, 3)
    flat = np.concatenate([a.reshape(-1) for a in kept]) if kept else np.zeros(0, np.uint8)
    meta = {"count": len(arrays), "problems": {str(i): p for i, p in problems.items()}}
    return save("decoded", key, {"pixels": flat, "shapes": shapes}, meta)


def load_decoded(key: str, count: int) -> tuple[list[np.ndarray | None], dict[int, str]] | None:
    """(pixels or None per file, skip reasons by file index) stored under ``key``, or None."""
    entry = load("decoded", key)
    if entry is None:
        return None
    stored, meta = entry
    try:
        problems = {int(i): str(p) for i, p in meta["problems"].items()}
        shapes, flat = stored["shapes"], stored["pixels"]
        sizes = [int(np.prod(s)) for s in shapes]
        if meta["count"] != count or len(sizes) + len(problems) != count or sum(sizes) != flat.size:
            raise ValueError("inconsistent entry")
    except (KeyError, ValueError, TypeError, AttributeError):
        (cache_dir("decoded") / f"{key}.npz").unlink(missing_ok=True)
        return None
    offsets = np.cumsum([0, *sizes])
    pieces = iter(flat[offsets[k]:offsets[k + 1]].reshape(shapes[k]) for k in range(len(sizes)))
    return [None if i in problems else next(pieces) for i in range(count)], problems


# --- probe features -------------------------------------------------------------------------
def load_features(key: str, rows: int) -> np.ndarray | None:
    """The (rows, D) float32 features stored under ``key``, or None."""
    entry = load("features", key)
    if entry is None:
        return None
    feats = entry[0].get("features")
    if feats is None or feats.ndim != 2 or feats.shape[0] != rows or feats.dtype != np.float32:
        (cache_dir("features") / f"{key}.npz").unlink(missing_ok=True)
        return None
    return feats


def save_features(key: str, feats: np.ndarray) -> bool:
    return save("features", key, {"features": np.asarray(feats, dtype=np.float32)}, {})
