"""What a reader sees of a Markdown string the dashboard renders: backslash escapes removed.

Pages escape every message for Markdown (``core.output.md``: ``UTF\\-8``, ``\\<PERSON\\>``); AppTest
hands back that source text, so tests compare the rendered words, not the escapes.
"""

from __future__ import annotations

import re


def shown(markdown: str) -> str:
    return re.sub(r"\\(.)", r"\1", markdown)
