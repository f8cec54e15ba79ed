"""Hostile inputs: huge or adversarial text, odd frames, loose secret permissions."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pandas as pd
import pytest

from core.privacy import mask_frame, mask_text, mask_tokens, scan_frame
from core.privacy.mask import secret_key

ADVERSARIAL = {  # ~50k characters each: enough to make any quadratic step take minutes
    "run before @": "a" * 50_000 + "@",
    "digits": "1" * 50_000,
    "plus digits": "+1" * 25_000,
    "dashed digits": "1-" * 25_000,
    "dotted digits": "1." * 25_000,
    "hex colons": "ab:" * 20_000,
    "iban-ish": "DE12" * 12_500,
    "many names": "Anna Maria " * 5_000,
    "many honorifics": "Mr Anna " * 6_000,
    "many birth dates": "born 1984-01-01 " * 3_000,
}


@pytest.mark.timeout(60)
@pytest.mark.parametrize("name", list(ADVERSARIAL))
def test_adversarial_text_finishes(name: str) -> None:
    """No regex backtracks catastrophically and overlap resolution is not quadratic."""
    text = ADVERSARIAL[name]
    out = mask_text(text)
    assert isinstance(out, str) and len(out) <= 2 * len(text)


@pytest.mark.timeout(60)
def test_many_tokens_are_masked_in_linear_time() -> None:
    tokens = ("x@example.com " * 5_000).split(" ")
    out = mask_tokens(tokens)
    assert len(out) == len(tokens) and out[0] == "<EMAIL>" and "x@example.com" not in out


def test_non_text_and_empty_inputs() -> None:
    assert mask_text("") == "" and mask_text(None) is None  # type: ignore[arg-type]
    assert mask_tokens([]) == [] and mask_tokens(["", ""]) == ["", ""]
    assert mask_frame(pd.DataFrame()).shape == (0, 0)
    assert scan_frame(pd.DataFrame({"a": []})).column("a").role == "none"


def test_duplicate_column_names_are_each_masked() -> None:
    df = pd.DataFrame([["a@example.com", "x"], ["b@example.com", "y"]], columns=["c", "c"])
    out = mask_frame(df)
    assert out.iloc[:, 0].tolist() == ["<EMAIL>", "<EMAIL>"]
    assert out.iloc[:, 1].tolist() == ["x", "y"]


def test_columns_missing_from_the_report_are_still_masked() -> None:
    df = pd.DataFrame({"email": ["a@example.com", "b@example.com"], "n": [1, 2]})
    partial_report = scan_frame(df[["n"]])
    assert mask_frame(df, partial_report)["email"].tolist() == ["<EMAIL>", "<EMAIL>"]


def test_loose_secret_permissions_are_tightened(loupe_home: Path) -> None:
    key = secret_key()
    path = loupe_home / "secret.key"
    os.chmod(path, 0o644)
    from core.privacy import operators

    operators._SECRETS.clear()
    assert secret_key() == key
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
