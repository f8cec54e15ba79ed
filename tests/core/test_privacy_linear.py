"""Masking runs in linear time (issue 12): no pattern backtracks catastrophically or rescans.

Every compiled pattern of ``core.privacy`` is run over adversarial strings of 100,000 characters
(repeated units built from the characters the patterns care about, each followed by a character
that makes the match fail late). The budget is a ratio against a linear baseline measured on the
same text in the same run, so it does not depend on the machine's speed: ``(?s).`` with
``finditer``, one match object per character, the most output any pattern could produce.
Linear patterns measure 0.1-10x of it here; the old e-mail pattern measured ~10^5x on "%%%…".
"""

from __future__ import annotations

import re
import time

import pytest

import core.privacy.detect as detect
import core.privacy.name_finder as name_finder
import core.privacy.names as names
import core.privacy.operators as operators
import core.privacy.patterns as patterns
from core.privacy import mask_text

N = 100_000
PATTERN_BUDGET = 40  # x the baseline: linear patterns stay far below, quadratic ones far above
MASK_BUDGET = 400  # mask_text does Python work per match; quadratic would be ~10^4 at 100k
UNITS = (
    "%", "a", "a.", "1", "1 ", "1-", "+1 ", "(1", "a@", "a:", "::", "www.", "Aa ", "AA",
    "de ", "1/", "Jan ", "1 of ", "born 1 ", " ", "-", "Dr ", "Dear ", "zip ", "CA ", "DE89 ",
    "+" + "1" * 40 + " ", "+1" + " 1" * 30 + " ", "1" * 20 + " ", "a:" * 9 + " ",
    "x@" + "a." * 20 + " ", "Maria ", "maria-",
)
SUFFIXES = ("@", "x1")


def _patterns() -> dict[str, re.Pattern[str]]:
    mods = (patterns, names, name_finder, detect, operators)
    return {f"{m.__name__}.{k}": v for m in mods for k, v in vars(m).items()
            if isinstance(v, re.Pattern)}


def _adversarial(unit: str, suffix: str) -> str:
    return (unit * (N // len(unit) + 1))[:N] + suffix


def _best(fn, repeats: int = 3) -> float:  # noqa: ANN001
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


_ANY = re.compile(r"(?s).")


def _baseline(text: str) -> float:
    return _best(lambda: sum(1 for _ in _ANY.finditer(text)))


def test_every_pattern_is_collected() -> None:
    found = _patterns()
    assert len(found) >= 25
    assert "core.privacy.patterns._EMAIL" in found and "core.privacy.patterns._PHONE_INTL" in found


@pytest.mark.parametrize("unit", UNITS)
def test_every_pattern_is_linear_on_adversarial_text(unit: str) -> None:
    slow = []
    for suffix in SUFFIXES:
        text = _adversarial(unit, suffix)
        base = _baseline(text)
        for name, pattern in _patterns().items():
            spent = _best(lambda p=pattern, t=text: sum(1 for _ in p.finditer(t)), repeats=1)
            if spent > PATTERN_BUDGET * base:  # measure again before blaming it: shared CPUs
                spent = _best(lambda p=pattern, t=text: sum(1 for _ in p.finditer(t)))
            if spent > PATTERN_BUDGET * base:
                slow.append(f"{name} on {unit!r}+{suffix!r}: {spent / base:.0f}x")
    assert not slow, slow


@pytest.mark.parametrize("unit", ["%", "+" + "1" * 40 + " ", "Maria ", "Dear Maria ", "a@", "Jan "])
def test_mask_text_is_linear_on_adversarial_text(unit: str) -> None:
    text = _adversarial(unit, "@")
    base = _baseline(text)
    spent = _best(lambda: mask_text(text), repeats=1)
    if spent > MASK_BUDGET * base:
        spent = _best(lambda: mask_text(text), repeats=2)
    assert spent <= MASK_BUDGET * base, f"{spent / base:.0f}x the baseline"


def test_old_quadratic_email_input_is_masked_correctly() -> None:
    text = "%" * 50_000 + "@"
    assert mask_text(text) == text  # no e-mail there, and it returns
    assert mask_text("%%x%y@example.com") == "<EMAIL>"


# --- shorten before masking --------------------------------------------------------------------


def test_mask_shortened_masks_an_entity_crossing_the_cut_whole() -> None:
    from core.privacy import mask_shortened

    text = "x" * 90 + " john.smith@example.com and more " + "y" * 1_000_000
    out = mask_shortened(text, 100)
    assert out == "x" * 90 + " <EMAIL>…"
    assert "john" not in out and "example" not in out
    assert mask_shortened("Refund for Mateus Kowalczyk, ok", 16) == "Refund for <PERSON>…"
    assert mask_shortened("short", 100) == "short"


def test_mask_shortened_reads_only_the_head_of_a_long_text() -> None:
    from core.privacy import mask_shortened

    head = "Call +44 20 7946 0958. "
    text = head + "%" * 2_000_000 + "@x.com"
    assert _best(lambda: mask_shortened(text, 300), repeats=1) < 50 * _baseline(text[:100_000])
    assert mask_shortened(text, 30).startswith("Call <PHONE_NUMBER>. ")


def test_worst_examples_are_shortened_before_masking() -> None:
    from core.tasks.text import REPORT_TEXT_CHARS, _masked

    text = "x" * (REPORT_TEXT_CHARS - 5) + " mateus.kowalczyk@example.com " + "z" * 10**6
    out = _masked(text, REPORT_TEXT_CHARS)
    assert "<EMAIL>" in out and "mateus" not in out and len(out) < REPORT_TEXT_CHARS + 40
