"""k-anonymity on hand-checked tables, small-count suppression, the suppressed profile."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from core.errors import LoupeError
from core.privacy.anonymity import k_anonymity, safe_histogram, suppress_small_counts
from core.privacy.profile import profile_frame

# Groups over (zip, sex): (02138,F)=3, (02138,M)=1, (02139,M)=2, (02139,F)=1  -> 7 records
TABLE = pd.DataFrame({
    "zip": ["02138", "02138", "02138", "02138", "02139", "02139", "02139"],
    "sex": ["F", "F", "F", "M", "M", "M", "F"],
    "age": [34, 36, 38, 51, 55, 57, 29],
    "score": [1, 2, 3, 4, 5, 6, 7],
})


def test_k_anonymity_hand_checked() -> None:
    r = k_anonymity(TABLE, ["zip", "sex"], k=2)
    assert (r.n_groups, r.min_group_size, r.groups_below_k, r.records_below_k) == (4, 1, 2, 2)
    assert r.share_below_k == pytest.approx(2 / 7)
    assert dict(r.size_counts) == {1: 2, 2: 1, 3: 1}
    r3 = k_anonymity(TABLE, ["zip", "sex"], k=3)
    assert (r3.groups_below_k, r3.records_below_k) == (3, 4)
    assert not r3.satisfied and k_anonymity(TABLE, ["zip"], k=3).satisfied


def test_generalising_a_numeric_quasi_identifier_merges_groups() -> None:
    raw = k_anonymity(TABLE, ["age"], k=2)
    assert raw.min_group_size == 1 and raw.records_below_k == 7
    coarse = k_anonymity(TABLE, ["age"], k=2, widths={"age": 10})  # 20s:1, 30s:3, 50s:3
    assert dict(coarse.size_counts) == {1: 1, 3: 2} and coarse.records_below_k == 1


def test_missing_values_form_their_own_group_and_no_qi_means_one_group() -> None:
    df = pd.DataFrame({"zip": ["1", None, None, "1"]})
    assert k_anonymity(df, ["zip"], k=2).satisfied
    none = k_anonymity(TABLE, [], k=5)
    assert none.min_group_size == 7 and none.satisfied


def test_unknown_quasi_identifier_names_the_column() -> None:
    with pytest.raises(LoupeError, match="'zipp'.*did you mean 'zip'"):
        k_anonymity(TABLE, ["zipp"])


def test_small_categories_are_merged_then_suppressed() -> None:
    merged = suppress_small_counts(pd.Series({"a": 10, "b": 6, "c": 2, "d": 3}), k=5)
    assert merged.to_dict("list") == {"value": ["a", "b", "other (<5)"],
                                      "count": [10.0, 6.0, 5.0],
                                      "suppressed": [False, False, False]}
    tiny = suppress_small_counts(pd.Series({"a": 10, "c": 2, "d": 1}), k=5)
    assert tiny["value"].tolist() == ["a", "other (<5)"]
    assert math.isnan(tiny["count"].iloc[1]) and bool(tiny["suppressed"].iloc[1])
    top = suppress_small_counts(pd.Series({"a": 9, "b": 8, "c": 7, "d": 6}), k=5, top=2)
    assert top["value"].tolist() == ["a", "b", "other"] and top["count"].iloc[2] == 13


def test_histogram_bins_hold_at_least_k_and_hide_extremes() -> None:
    rng = np.random.default_rng(0)
    values = pd.Series(np.r_[rng.normal(50, 10, 300), [500.0]])
    hist = safe_histogram(values, k=5, bins=10)
    assert (hist["count"] >= 5).all() and hist["count"].sum() == len(values)
    assert hist["label"].iloc[-1].startswith("≥")  # the outlier sits in an open-ended bin
    assert 500.0 not in hist["right"].tolist() and values.min() not in hist["left"].tolist()
    assert safe_histogram(pd.Series([1.0, 2.0, 3.0]), k=5).empty  # all suppressed


def test_profile_suppresses_and_warns() -> None:
    df = pd.DataFrame({
        "age": list(range(20, 80)),
        "city": ["Leeds"] * 30 + ["Lyon"] * 27 + ["Graz", "Porto", "Oslo"],
        "email": [f"u{i}@example.com" for i in range(60)],
        "price": np.linspace(1, 100, 60),
    })
    prof = profile_frame(df, k=5)
    cols = prof.columns.set_index("column")
    assert math.isnan(cols.at["age", "min"]) and math.isnan(cols.at["age", "max"])
    assert cols.at["price", "min"] == 1.0  # not identifier-like: min/max allowed
    assert prof.distributions["city"]["label"].tolist() == ["Leeds", "Lyon", "other (<5)"]
    assert bool(prof.distributions["city"]["suppressed"].iloc[-1])
    assert "email" not in prof.distributions  # direct identifier: no value distribution
    kinds = {(w.column, w.kind) for w in prof.warnings}
    assert ("age", "min/max") in kinds and ("city", "small categories") in kinds
    for dist in prof.distributions.values():
        shown = dist.loc[~dist["suppressed"].astype(bool), "count"]
        assert (shown >= 5).all()
