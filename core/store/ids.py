"""Run ids: the one format Loupe makes, and how a typed id or prefix resolves to exactly one run.

A run id is ``uuid4().hex[:10]`` (ten lowercase hex digits). Users may type the whole id or a
unique prefix of at least ``MIN_PREFIX`` characters. The prefix is compared as literal text
(``starts_with``), never as a SQL ``LIKE`` pattern: ``%`` and ``_`` are characters, not wildcards,
so ``loupe delete %`` matches nothing instead of everything.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

from core.errors import LoupeError

RUN_ID = re.compile(r"[0-9a-f]{10}")
MIN_PREFIX = 4
MAX_LISTED = 10


def is_run_id(value: object) -> bool:
    return isinstance(value, str) and RUN_ID.fullmatch(value) is not None


def check_run_id(value: object, what: str = "run id") -> str:
    """``value`` when it has the form of a run id; a LoupeError otherwise (no path can pass:
    the form has no '/', '\\' or '.')."""
    if not is_run_id(value):
        raise LoupeError(
            f"{value!r} is not a valid {what}: Loupe run ids are 10 lowercase hex digits "
            "(e.g. 3f9c2a1b7d).",
            "use an id listed by `loupe runs`.",
        )
    return str(value)


Query = Callable[[str, Sequence[Any]], list[tuple[Any, ...]]]


def resolve_run_id(ref: object, query: Query) -> str:
    """The one run that ``ref`` names: its exact id, or the only id that starts with it.

    ``query(sql, params)`` runs SQL on the run history and returns rows. Empty and blank refs
    are refused (an unset shell variable must not match anything); a prefix shorter than
    ``MIN_PREFIX`` must match exactly; an ambiguous prefix lists the candidates with their
    (masked) names.
    """
    text = ref.strip() if isinstance(ref, str) else ""
    if not text:
        raise LoupeError(
            "No run id given (it is empty).",
            "pass a run id or its first 4+ characters from `loupe runs`; in a script, check that "
            "the variable holding the id is set.",
        )
    if query("SELECT id FROM runs WHERE id = ? LIMIT 1", [text]):
        return text
    if len(text) < MIN_PREFIX:
        raise LoupeError(
            f"No run with id {text!r} (a prefix needs at least {MIN_PREFIX} characters).",
            "type more of the id; `loupe runs` lists them.",
        )
    rows = query(
        "SELECT id, name FROM runs WHERE starts_with(id, ?) ORDER BY created_at DESC LIMIT ?",
        [text, MAX_LISTED + 1],
    )
    if not rows:
        raise LoupeError(f"No run with id {text!r}.", "list runs with `loupe runs`.")
    if len(rows) == 1:
        return str(rows[0][0])
    from core.privacy import mask_text

    listed = ", ".join(f"{rid} ({mask_text(str(name or ''))})" for rid, name in rows[:MAX_LISTED])
    more = " and more" if len(rows) > MAX_LISTED else ""
    raise LoupeError(
        f"The prefix {text!r} matches several runs: {listed}{more}.",
        "type more characters of the id, or the whole id.",
    )
