"""`loupe explain` end to end on a tiny tabular run (parser built here until the CLI wires it)."""

from __future__ import annotations

import argparse
import json

import pandas as pd
import pytest

from core.cli.explain import add_parsers, cmd_explain
from core.errors import LoupeError
from core.explain import shap_tabular
from tests.core.test_explain_fixtures import linear_tabular_run


def _args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="loupe")
    add_parsers(parser.add_subparsers(dest="command"))
    return parser.parse_args(["explain", *argv])


def test_explain_a_row_from_a_file_and_json_then_cached(store, tmp_path, capsys) -> None:
    run_id = linear_tabular_run(store)
    rows = shap_tabular.raw_split(store, run_id, "test").head(3)
    rows.to_csv(tmp_path / "rows.csv", index=False)
    html = tmp_path / "why.html"
    out = tmp_path / "why.csv"
    assert cmd_explain(_args(run_id, "--input", str(tmp_path / "rows.csv"), "--row", "2",
                             "--html", str(html), "--out", str(out), "--quiet")) == 0
    printed = capsys.readouterr().out
    assert "prediction:" in printed and "computed in" in printed and "figures written" in printed
    assert html.read_text().count("Plotly.newPlot") == 1
    assert len(pd.read_csv(out)) == len(rows.columns) - 1  # one line per feature column
    row = json.dumps({k: (None if pd.isna(v) else v) for k, v in rows.iloc[2].items()})
    assert cmd_explain(_args(run_id, "--input", row, "--json")) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["from_cache"] is True and payload["kind"] == "tabular"
    assert len(payload["table"]) == len(rows.columns) - 1


def test_explain_global_and_errors(store, capsys) -> None:
    run_id = linear_tabular_run(store)
    assert cmd_explain(_args(run_id, "--method", "global", "--rows", "10", "--background", "10",
                             "--quiet")) == 0
    assert "mean_abs_shap" in capsys.readouterr().out
    with pytest.raises(LoupeError, match="not available for tabular"):
        cmd_explain(_args(run_id, "--method", "attention", "--input", "x"))
    with pytest.raises(LoupeError, match="not valid JSON"):
        cmd_explain(_args(run_id, "--input", "{oops"))
    with pytest.raises(LoupeError, match="Nothing to explain"):
        cmd_explain(_args(run_id))
