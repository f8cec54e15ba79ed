"""How a damaged run history is reported: one LoupeError naming the file and the recovery step.

Kept apart from ``runs.py`` so every place that opens the file (the store, the doctor) words it
the same way.
"""

from __future__ import annotations

from pathlib import Path

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
