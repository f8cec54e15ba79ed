"""inspect_file on every table format, clear errors, safe terminal output and figures."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go
import pytest

from core.errors import LoupeError
from core.privacy import figures
from core.privacy.inspection import format_inspection, inspect_file
from data.make_pii import make_pii


@pytest.fixture
def planted(tmp_path: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    return make_pii(rows=40)


@pytest.mark.parametrize("suffix", [".csv", ".tsv", ".parquet", ".jsonl"])
def test_inspect_every_format(tmp_path: Path, planted, suffix: str) -> None:
    df, truth = planted
    path = tmp_path / f"people{suffix}"
    {".csv": lambda: df.to_csv(path, index=False),
     ".tsv": lambda: df.to_csv(path, sep="\t", index=False),
     ".parquet": lambda: df.to_parquet(path),
     ".jsonl": lambda: df.to_json(path, orient="records", lines=True)}[suffix]()
    result = inspect_file(path, k=5)
    assert (result.n_rows, result.n_columns) == (40, df.shape[1])
    assert {"email", "phone", "notes"} <= set(result.report.direct_identifiers)
    assert "age" in result.kanon.quasi_identifiers
    text = format_inspection(result)
    dumped = result.to_json()
    json.loads(dumped)
    assert "Direct identifiers:" in text and "k-anonymity over" in text
    leaked = [v for v in truth["value"] if v in text or v in dumped]
    assert leaked == []


def test_inspect_errors_name_the_file_and_fix(tmp_path: Path) -> None:
    with pytest.raises(LoupeError, match="does not exist.*Fix"):
        inspect_file(tmp_path / "nope.csv")
    odd = tmp_path / "table.xlsx"
    odd.write_bytes(b"PK\x03\x04")
    with pytest.raises(LoupeError, match="'table.xlsx'.*unknown table format.*Fix: save it as"):
        inspect_file(odd)
    bad = tmp_path / "broken.parquet"
    bad.write_text("not parquet at all")
    with pytest.raises(LoupeError, match="Cannot read 'broken.parquet' as PARQUET"):
        inspect_file(bad)
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(LoupeError, match="empty.csv"):
        inspect_file(empty)


def test_semicolon_csv_is_read(tmp_path: Path) -> None:
    path = tmp_path / "eu.csv"
    path.write_text("name;city\nAna Ruiz;Lyon\nBob Stone;Graz\n")
    result = inspect_file(path)
    assert result.n_columns == 2 and result.report.column("name").role == "direct identifier"


def test_figures_build_from_safe_frames(planted) -> None:
    from core.privacy.inspection import inspect_frame

    df, _ = planted
    result = inspect_frame(df)
    figs = [
        figures.pii_heatmap_figure(result.report.entity_frame()),
        figures.pii_roles_figure(result.report.to_frame()),
        figures.missing_values_figure(result.profile.columns),
        figures.distribution_figure(result.profile.distributions["city"], "city"),
        figures.distribution_figure(result.profile.distributions.get("email"), "email"),
        figures.k_anonymity_figure(result.kanon),
        figures.pii_heatmap_figure(pd.DataFrame(columns=["column", "entity", "share"])),
    ]
    assert all(isinstance(f, go.Figure) for f in figs)
    heat = figs[0].data[0]
    assert "email" in heat.y and "EMAIL" in heat.x
    assert "Not shown" in figs[4].layout.annotations[0].text
