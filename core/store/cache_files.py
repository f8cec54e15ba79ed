"""The cache entries a run's data used, deleted with the run.

Image runs cache the decoded pixels of their photos and the probe features under
``<LOUPE_HOME>/cache`` (``core.datasets.image_cache``), keyed by content so that a second run on
the same photos skips the work. The training loop lists the entries a run used in its
``cache.json``; ``RunStore.delete_run`` calls ``forget_cache_entries`` so that no pixels of a
deleted run's photos stay behind. Another run on the same photos simply decodes them again.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from core.paths import loupe_home

LISTING = "cache.json"
ENTRY = re.compile(r"images/(decoded|features)/[0-9a-f]{64}\.npz")  # nothing else is deleted


def cache_entries(run_dir: Path) -> list[str]:
    """The entries listed in the run's ``cache.json`` that name a cache file (others ignored)."""
    try:
        listed = json.loads((run_dir / LISTING).read_text())
    except (OSError, ValueError):
        return []
    if not isinstance(listed, list):
        return []
    return [e for e in listed if isinstance(e, str) and ENTRY.fullmatch(e)]


def forget_cache_entries(run_dir: Path) -> int:
    """Delete the cache files the run used; how many were there."""
    root = loupe_home() / "cache"
    removed = 0
    for entry in cache_entries(run_dir):
        path = root / entry
        if path.is_file():
            path.unlink(missing_ok=True)
            removed += 1
    return removed
