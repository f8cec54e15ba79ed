"""Health of the run history and of trainer processes: how a damaged file is reported (one
LoupeError naming the file and the recovery step, worded the same by the store and the doctor),
what a lock error looks like, and whether a trainer process is still alive.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import duckdb

from core.errors import LoupeError

# Error classes DuckDB raises for a file it cannot trust (bad checksums, unreadable blocks or
# catalog, an invalidated database after such a read). Errors of bad SQL are not among them.
DAMAGE_TYPES = tuple(
    getattr(duckdb, name) for name in (
        "SerializationException", "InternalException", "FatalException")
    if hasattr(duckdb, name)
)
DAMAGE_WORDS = ("corrupt", "checksum", "not a valid duckdb", "invalidated", "serializ",
                "could not read", "failed to read", "magic bytes", "malformed")


def looks_damaged(exc: BaseException) -> bool:
    text = str(exc).lower()
    return isinstance(exc, DAMAGE_TYPES) or any(word in text for word in DAMAGE_WORDS)


def damaged_error(path: Path, exc: BaseException, verb: str = "open") -> LoupeError:
    """The message for a run history that DuckDB could not open, migrate or read."""
    detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return LoupeError(
        f"Cannot {verb} the run history {path}: it is damaged or not a Loupe DuckDB file "
        f"({type(exc).__name__}: {detail[:300]}).",
        f"stop other Loupe processes, then run `loupe doctor --repair`: it moves the damaged file "
        f"aside as {path.name}.corrupt-<time> (kept, nothing is deleted), copies every readable "
        f"row into a fresh history and keeps the run folders. Or restore {path.name} from a backup.",
    )


def is_lock_error(exc: Exception) -> bool:
    if looks_damaged(exc):  # "checksum … in block at location …" mentions a block, not a lock
        return False
    text = str(exc).lower()
    return bool(re.search(r"\block\b", text)) or "conflicting" in text or "being used by another" in text


def pid_or_none(pid: Any) -> int | None:
    """A pid read back through pandas: NULL arrives as None or NaN."""
    return None if pid is None or pid != pid else int(pid)


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie child (killed but not yet reaped) still answers kill(pid, 0).
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return True
