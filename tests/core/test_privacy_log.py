"""Audit trail and overrides live in the run store and never hold a cell value."""

from __future__ import annotations

import pandas as pd
import pytest

from core.errors import LoupeError
from core.privacy import fingerprint_frame, mask_frame, scan_frame
from core.store.privacy_log import (
    audit_log,
    clear_override,
    load_overrides,
    record_remask,
    record_unmask,
    save_override,
    unmasked_columns,
)

PEOPLE = pd.DataFrame({"email": ["ana@example.com", "bob@example.org"], "age": [31, 45],
                       "phone": ["+44 20 7946 0958", "+1 415 555 2671"]})


def test_unmask_is_recorded_and_replayed(store) -> None:
    fp = fingerprint_frame(PEOPLE)
    record_unmask(store, fp, "people.csv", ["email", "phone"], actor="ana")
    record_remask(store, fp, "people.csv", ["phone"])
    log = audit_log(store)
    assert log["action"].tolist() == ["remask", "unmask"]  # newest first
    first = log.iloc[1]
    assert (first.dataset_name, first.actor, first.columns) == ("people.csv", "ana",
                                                                ["email", "phone"])
    assert first.dataset_fingerprint == fp and pd.notna(first.logged_at)
    shown = unmasked_columns(store, fp)
    assert shown == {"email"}
    out = mask_frame(PEOPLE, unmasked_columns=shown)
    assert out.at[0, "email"] == "ana@example.com" and out.at[0, "phone"] == "<PHONE_NUMBER>"
    assert unmasked_columns(store, "another dataset") == set()


def test_overrides_round_trip_and_replace(store) -> None:
    fp = fingerprint_frame(PEOPLE)
    save_override(store, fp, "age", "none")
    save_override(store, fp, "age", "quasi-identifier")
    save_override(store, fp, "email", "none")
    assert load_overrides(store, fp) == {"age": "quasi-identifier", "email": "none"}
    report = scan_frame(PEOPLE, overrides=load_overrides(store, fp))
    assert report.column("email").role == "none"
    clear_override(store, fp, "email")
    assert load_overrides(store, fp) == {"age": "quasi-identifier"}
    assert load_overrides(store, "other") == {}
    assert any(a.startswith("override") for a in audit_log(store, fp)["action"])
    with pytest.raises(LoupeError):
        save_override(store, fp, "age", "secret")


def test_no_raw_value_reaches_the_database(store) -> None:
    fp = fingerprint_frame(PEOPLE)
    record_unmask(store, fp, "people.csv", ["email"])
    save_override(store, fp, "phone", "direct identifier")
    with store.connect() as con:
        dump = con.execute("SELECT * FROM privacy_audit").df().to_csv()
        dump += con.execute("SELECT * FROM column_overrides").df().to_csv()
    for value in [*PEOPLE["email"], *PEOPLE["phone"]]:
        assert value not in dump
