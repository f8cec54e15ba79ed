"""Quasi-identifier guesses read the whole table's meaning (issue 15, item 7): a house's age is not
a person's, and the user can correct any guess in `loupe inspect` (the Data page's control is in
tests/dashboard/test_data_journey.py). Tables here are not from Loupe's own generator: scikit-learn's
diabetes study, and a frame with the California-housing column names."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from core.cli import main
from core.privacy.report import scan_frame


def housing_frame(n: int = 300) -> pd.DataFrame:
    rng = np.random.default_rng(7)
    return pd.DataFrame({
        "longitude": rng.uniform(-124.3, -114.3, n).round(2),
        "latitude": rng.uniform(32.5, 42.0, n).round(2),
        "housing_median_age": rng.integers(1, 53, n),
        "total_rooms": rng.integers(2, 12000, n), "total_bedrooms": rng.integers(1, 2500, n),
        "population": rng.integers(3, 8000, n), "households": rng.integers(1, 2500, n),
        "median_income": rng.uniform(0.5, 15.0, n).round(4),
        "ocean_proximity": rng.choice(["<1H OCEAN", "INLAND", "NEAR BAY", "NEAR OCEAN"], n),
        "median_house_value": rng.integers(15000, 500001, n),
    })


def roles(frame: pd.DataFrame) -> dict[str, str]:
    return {c.name: c.role for c in scan_frame(frame).columns}


def test_a_house_age_is_not_a_personal_quasi_identifier() -> None:
    report = scan_frame(housing_frame())
    column = report.column("housing_median_age")
    assert column.role == "none" and "not a person" in column.role_source
    assert report.quasi_identifiers == []


def test_age_of_a_thing_in_an_otherwise_silent_table() -> None:
    rng = np.random.default_rng(1)
    # the table says nothing about its subject: the column's own words decide
    frame = pd.DataFrame({"vehicle_age": rng.integers(0, 20, 50), "mean_age": rng.uniform(20, 60, 50),
                          "price": rng.uniform(1000, 9000, 50)})
    assert roles(frame) == {"vehicle_age": "none", "mean_age": "none", "price": "none"}


def test_people_tables_keep_their_quasi_identifiers() -> None:
    from sklearn.datasets import load_diabetes

    diabetes = load_diabetes(as_frame=True).frame  # a study of patients: age and sex
    assert {"age", "sex"} <= set(scan_frame(diabetes).quasi_identifiers)
    rng = np.random.default_rng(2)
    customers = pd.DataFrame({"customer_id": np.arange(60), "age": rng.integers(18, 90, 60),
                              "city": rng.choice(["Lyon", "Leeds", "Graz"], 60),
                              "rooms_booked": rng.integers(1, 4, 60)})  # a thing word, but people
    assert set(scan_frame(customers).quasi_identifiers) == {"age", "city"}
    lone = pd.DataFrame({"age": rng.integers(18, 90, 60), "score": rng.random(60)})
    assert scan_frame(lone).quasi_identifiers == ["age"]  # nothing says otherwise: stay cautious
    mother = housing_frame().rename(columns={"housing_median_age": "mother_age"})
    assert "mother_age" in scan_frame(mother).quasi_identifiers  # a person word in the name


def test_inspect_role_overrides_are_saved_audited_and_cleared(tmp_path, capsys) -> None:
    path = tmp_path / "people.csv"
    rng = np.random.default_rng(3)
    pd.DataFrame({"patient_age": rng.integers(18, 90, 40), "ward": rng.choice(["A", "B"], 40)}
                 ).to_csv(path, index=False)

    def inspect(*extra: str) -> dict:
        capsys.readouterr()
        assert main(["inspect", str(path), "--json", *extra]) == 0
        out = json.loads(capsys.readouterr().out)
        return {c["name"]: (c["role"], c["role_source"]) for c in out["pii"]["columns"]}

    assert inspect()["patient_age"] == ("quasi-identifier", "column name")
    assert inspect("--role", "patient_age=none", "--role", "ward=quasi-identifier") == {
        "patient_age": ("none", "override"), "ward": ("quasi-identifier", "override")}
    assert inspect()["patient_age"] == ("none", "override")  # kept for this data
    assert inspect("--clear-role", "patient_age")["patient_age"] == ("quasi-identifier", "column name")
    assert main(["inspect", str(path), "--role", "patient_agee=none"]) == 2
    assert "patient_age" in capsys.readouterr().err  # "did you mean"
    assert main(["inspect", str(path), "--role", "patient_age=private"]) == 2
    assert "Unknown privacy role" in capsys.readouterr().err
