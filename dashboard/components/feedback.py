"""Errors and notices: what core raises reaches the user as a message, never a traceback."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import streamlit as st

from core.errors import LoupeError
from core.output import md


@contextmanager
def show_errors(where: str = "") -> Iterator[None]:
    """Show a ``LoupeError`` (or any other failure, briefly) with ``st.error`` and carry on.

    Code after the failing call inside the ``with`` block is skipped; the rest of the page renders.
    """
    try:
        yield
    except LoupeError as exc:
        st.error(_format(exc.problem, exc.fix, where), icon=":material/error:")
    except Exception as exc:  # the page must keep working; the message says what broke
        prefix = f"**{where}:** " if where else ""
        st.error(f"{prefix}Unexpected {type(exc).__name__}: {md(exc)}", icon=":material/error:")


def _format(problem: str, fix: str | None, where: str) -> str:
    """Problem and fix are masked and Markdown-escaped: they name files, columns and labels."""
    text = f"**{where}:** {md(problem)}" if where else md(problem)
    return f"{text}\n\n**Fix:** {md(fix)}" if fix else text


def notices(items: list[str], title: str = "Notes on the data") -> None:
    """Things the user should know (sampling, dropped rows, truncation), folded when there are many."""
    if not items:
        return
    if len(items) <= 3:
        for item in items:
            st.info(md(item), icon=":material/info:")
        return
    with st.expander(f"{title} ({len(items)})"):
        for item in items:
            st.markdown(f"- {md(item)}")
