"""Masking operators, the per-install secret, and the three hooks other modules call."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pandas as pd
import pytest

from core.errors import LoupeError
from core.privacy import mask_frame, mask_text, mask_tokens, scan_frame
from core.privacy.mask import hash_token, partial_mask, secret_key
from data.make_pii import make_pii

TEXT = "Mail jane.doe@example.com or call +44 20 7946 0958; card 4111 1111 1111 1111."


def test_replace_puts_the_entity_type() -> None:
    assert mask_text(TEXT) == "Mail <EMAIL> or call <PHONE_NUMBER>; card <CREDIT_CARD>."


def test_partial_keeps_a_few_characters() -> None:
    out = mask_text(TEXT, "partial")
    assert "j***@e***.com" in out and "**** **** **** 1111" in out
    assert "jane" not in out and "7946" not in out
    assert partial_mask("123-45-6789", "US_SSN") == "***-**-6789"
    assert partial_mask("192.168.1.20", "IP_ADDRESS") == "192.*.*.*"
    assert partial_mask("12 March 1984", "DATE_OF_BIRTH") == "** ***** 1984"
    assert partial_mask("Anna Kowalski", "PERSON") == "A*** K***"
    assert partial_mask("DE89 3704 0044 0532 0130 00", "IBAN") == "DE** **** **** **** **30 00"


def test_hash_is_deterministic_normalised_and_keyed(loupe_home: Path) -> None:
    a = mask_text("mail jane.doe@example.com", "hash")
    b = mask_text("MAIL Jane.Doe@Example.com", "hash")
    assert a.split()[-1] == b.split()[-1]  # equal values (case-normalised) -> equal tokens
    assert a.split()[-1].startswith("<EMAIL:") and "jane" not in a
    assert hash_token("+1 555-123-4567", "PHONE_NUMBER") == hash_token("+15551234567",
                                                                      "PHONE_NUMBER")
    assert hash_token("x@example.com", "EMAIL") != hash_token("y@example.com", "EMAIL")
    other = hash_token("jane.doe@example.com", "EMAIL", secret=b"another install")
    assert other != hash_token("jane.doe@example.com", "EMAIL")


def test_secret_is_created_once_with_0600(loupe_home: Path, monkeypatch, tmp_path) -> None:
    key = secret_key()
    path = loupe_home / "secret.key"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert secret_key() == key and len(key) == 32
    token = hash_token("jane@example.com", "EMAIL")
    monkeypatch.setenv("LOUPE_HOME", str(tmp_path / "other_install"))
    assert secret_key() != key
    assert hash_token("jane@example.com", "EMAIL") != token  # different secret, different token


def test_drop_removes_spans_and_columns() -> None:
    assert mask_text("mail jane@example.com now", "drop") == "mail  now"
    df = pd.DataFrame({"email": ["a@example.com", "b@example.org"], "score": [1, 2]})
    assert list(mask_frame(df, operator="drop").columns) == ["score"]


def test_mask_text_leaves_plain_text_intact() -> None:
    for text in ["The movie was great.", "Version 2.4, build 20230105, 3 of 5 stars!", "", "  "]:
        assert mask_text(text) == text
    assert mask_text(TEXT).startswith("Mail ") and mask_text(TEXT).endswith(".")


def test_unknown_operator_is_a_loupe_error() -> None:
    with pytest.raises(LoupeError, match="did you mean 'partial'"):
        mask_text("x", "partal")


def test_mask_tokens_masks_pieces_of_a_split_email() -> None:
    words = ["my", "mail", "is", "john", "@", "example", ".", "com", "thanks"]
    assert mask_tokens(words) == ["my", "mail", "is", "<EMAIL>", "", "", "", "", "thanks"]
    shap_like = ["My ", "mail ", "is ", "john", "@", "example", ".", "com", " ok"]
    assert mask_tokens(shap_like) == ["My ", "mail ", "is ", "<EMAIL>", "", "", "", "", " ok"]
    bpe = ["My", "\u0120mail", "\u0120is", "\u0120john", "@", "example", ".", "com"]
    assert mask_tokens(bpe)[3] == "\u0120<EMAIL>" and mask_tokens(bpe)[4:] == ["", "", "", ""]
    plain = ["the", "movie", "was", "great"]
    assert mask_tokens(plain) == plain


def test_mask_frame_masks_direct_columns_fully_and_text_spans() -> None:
    df = pd.DataFrame({
        "full_name": ["Ana Ruiz", "Bob Stone", None],
        "notes": ["Call me at 555-123-4567 any time after lunch please",
                  "nothing to see here, all fine, thanks a lot", None],
        "age": [31, 45, 52],
    })
    out = mask_frame(df)
    assert out["full_name"].tolist()[:2] == ["<PERSON>", "<PERSON>"]
    assert out["full_name"].isna().tolist() == [False, False, True]
    assert out.at[0, "notes"] == "Call me at <PHONE_NUMBER> any time after lunch please"
    assert out.at[1, "notes"] == df.at[1, "notes"]
    assert out["age"].tolist() == [31, 45, 52]  # quasi-identifier by name: kept for modelling
    assert df.at[0, "full_name"] == "Ana Ruiz"  # input untouched


def test_unmasked_columns_are_left_as_is() -> None:
    df = pd.DataFrame({"email": ["a@example.com"], "phone": ["+44 20 7946 0958"]})
    out = mask_frame(df, unmasked_columns=["email"])
    assert out.at[0, "email"] == "a@example.com" and out.at[0, "phone"] == "<PHONE_NUMBER>"


def test_role_override_none_unmasks_and_direct_masks() -> None:
    df = pd.DataFrame({"email": ["a@example.com"], "code": ["X17"]})
    report = scan_frame(df).with_overrides({"email": "none", "code": "direct identifier"})
    out = mask_frame(df, report)
    assert out.at[0, "email"] == "a@example.com" and out.at[0, "code"] == "<REDACTED>"


@pytest.mark.parametrize("operator", ["replace", "partial", "hash"])
def test_no_planted_value_survives_masking(operator: str) -> None:
    """Every row is masked even when the report was built from a sample."""
    df, truth = make_pii(rows=48)
    report = scan_frame(df, sample_rows=10)
    assert report.sampled
    out = mask_frame(df, report, operator=operator)
    for t in truth.itertuples():
        cell = str(out.at[t.row, t.column])
        assert t.value not in cell, (t.entity, t.column, t.value, cell)
