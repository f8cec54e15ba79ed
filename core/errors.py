"""The one exception type users see.

Every loader and validator raises ``LoupeError`` with a message that names the file, the column
or row, and the fix. Pages show it with ``st.error``; the CLI prints it and exits non-zero.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class LoupeError(Exception):
    """A problem the user can act on. ``str(err)`` is the full, human-readable message."""

    def __init__(self, problem: str, fix: str | None = None) -> None:
        self.problem = problem
        self.fix = fix
        super().__init__(f"{problem} Fix: {fix}" if fix else problem)


def closest(name: str, candidates: Iterable[str], n: int = 3) -> list[str]:
    """Names in ``candidates`` that look like ``name`` (case-insensitive), best first."""
    options = [str(c) for c in candidates]
    lowered = {c.lower(): c for c in options}
    hits = difflib.get_close_matches(name.lower(), list(lowered), n=n, cutoff=0.5)
    return [lowered[h] for h in hits]


def suggest(name: str, candidates: Iterable[str]) -> str:
    """A 'did you mean' phrase for a misspelt name, or the list of valid names.

    Candidates are column names or labels from the data: they are masked here (an error message
    is output too), so 'did you mean <EMAIL>?' never prints someone's address."""
    from core.output import mask_message

    options = [str(c) for c in candidates]
    near = closest(name, options)
    if near:
        return "did you mean " + " or ".join(repr(mask_message(n)) for n in near) + "?"
    shown = ", ".join(repr(mask_message(o)) for o in options[:12])
    more = f" (and {len(options) - 12} more)" if len(options) > 12 else ""
    return f"choose one of {shown}{more}."
