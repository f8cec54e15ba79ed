"""The column report: no raw values, sampling with progress, overrides, fingerprints."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from core.errors import LoupeError
from core.privacy import fingerprint_frame, scan_frame
from data.make_pii import make_pii


def test_report_holds_no_raw_values() -> None:
    df, truth = make_pii(rows=48)
    report = scan_frame(df)
    dumped = json.dumps(report.to_dict()) + report.to_frame().to_csv() + \
        report.entity_frame().to_csv()
    leaked = [v for v in truth["value"] if v in dumped]
    assert leaked == []


def test_report_shares_and_confidence() -> None:
    df = pd.DataFrame({"email": ["a@example.com", None, "c@example.org", "d@example.net"]})
    col = scan_frame(df).column("email")
    stat = col.entities[0]
    assert (stat.entity, stat.cells, stat.share) == ("EMAIL", 3, 0.75)
    assert col.role == "direct identifier" and 0.9 <= col.confidence <= 1


def test_sampling_is_reported_and_progress_is_called() -> None:
    df, _ = make_pii(rows=96)
    calls: list[tuple[float, str]] = []
    report = scan_frame(df, sample_rows=40, progress=lambda f, m: calls.append((f, m)))
    assert report.sampled and report.rows_scanned == 40 and report.n_rows == 96
    assert "sample of 40 of 96 rows" in report.note
    assert calls[0][0] == 0 and calls[-1][0] == 1.0 and len(calls) == df.shape[1] + 1
    assert all(a[0] <= b[0] for a, b in zip(calls, calls[1:], strict=False))
    full = scan_frame(df, sample_rows=None)
    assert not full.sampled and "all 96 rows" in full.note
    assert full.direct_identifiers == report.direct_identifiers


def test_overrides_change_roles_and_are_validated() -> None:
    df = pd.DataFrame({"age": [30, 40], "email": ["a@example.com", "b@example.com"]})
    report = scan_frame(df, overrides={"age": "none"})
    assert report.column("age").role == "none" and report.column("age").role_source == "override"
    with pytest.raises(LoupeError, match="Unknown privacy role 'direct'"):
        report.with_overrides({"email": "direct"})
    with pytest.raises(LoupeError, match="did you mean 'email'"):
        report.column("emial")


def test_fingerprint_tracks_content() -> None:
    df = pd.DataFrame({"a": [1, 2], "b": ["x", "y"]})
    fp = fingerprint_frame(df)
    assert fp == fingerprint_frame(df.copy()) and len(fp) == 64
    assert fp != fingerprint_frame(df.assign(b=["x", "z"]))
    assert fp != fingerprint_frame(df.rename(columns={"a": "c"}))
    assert fingerprint_frame(pd.DataFrame({"l": [[1, 2], [3]]}))  # unhashable cells still work


def test_odd_columns_do_not_break_the_scan() -> None:
    df = pd.DataFrame({
        0: [1, 2, 3], "when": pd.to_datetime(["2020-01-01"] * 3), "flag": [True, False, True],
        "empty": [None, None, None], "mixed": [1, "a@example.com", 2.5],
        "lists": [[1], [2], [3]],
    })
    report = scan_frame(df)
    assert [c.name for c in report.columns] == ["0", "when", "flag", "empty", "mixed", "lists"]
    assert report.column("mixed").entities[0].entity == "EMAIL"
