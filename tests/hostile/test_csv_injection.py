"""Issue 13 item 4: every CSV Loupe writes neutralises spreadsheet formulas (OWASP): a text cell
starting with = + - @ TAB or CR gets a leading single quote; numbers stay numbers."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pandas as pd
import pytest

from core.output import FORMULA_PREFIXES, csv_bytes
from tests.hostile.output_runs import FORMULA, FORMULA_CELLS, hostile_tabular_run, hostile_text_run


def _cells(path_or_bytes: Path | bytes) -> list[list[str]]:
    raw = path_or_bytes.read_bytes() if isinstance(path_or_bytes, Path) else path_or_bytes
    return list(csv.reader(io.StringIO(raw.decode("utf-8"), newline="")))


def _assert_no_formula(rows: list[list[str]]) -> None:
    for row in rows:
        for cell in row:
            assert not cell.startswith(FORMULA_PREFIXES) or _is_number(cell), repr(cell)


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def test_csv_bytes_neutralises_text_and_keeps_numbers() -> None:
    frame = pd.DataFrame({"text": [*FORMULA_CELLS, "plain", FORMULA], "n": [-1.5] * 8,
                          "=bad header": [1] * 8})
    rows = _cells(csv_bytes(frame))
    _assert_no_formula(rows)
    assert rows[0] == ["text", "n", "'=bad header"]
    assert [r[0] for r in rows[1:]] == ["'+1+1", "'@SUM(1,1)", "'-2+3", "'=HYPERLINK(\"http://x.test\",\"x\")",
                                        "'\tTAB", "'\rCR", "plain", "'" + FORMULA]
    assert {r[1] for r in rows[1:]} == {"-1.5"}  # a negative number is a number, not a formula


def test_predict_out_csv_neutralises_labels_and_inputs(run_cli, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    home, run_id = hostile_text_run()
    monkeypatch.setenv("LOUPE_HOME", str(home))
    inputs = tmp_path / "in.csv"
    pd.DataFrame({"review": ["@SUM(1,1) great", "=1+1", "+1+1 poor fit"]}).to_csv(inputs, index=False)
    out = tmp_path / "p.csv"
    code, err = run_cli("predict", run_id, "--data", str(inputs), "--out", str(out))
    assert code == 0, err
    rows = _cells(out)
    _assert_no_formula(rows)
    assert any(cell == "'=1+1" for row in rows for cell in row)  # the echoed input, quoted
    assert any(c.startswith("p_") for c in rows[0])
    tsv = tmp_path / "p.tsv"
    assert run_cli("predict", run_id, "--data", str(inputs), "--out", str(tsv))[0] == 0
    for row in csv.reader(io.StringIO(tsv.read_text()), delimiter="\t"):
        for cell in row:
            assert not cell.startswith(FORMULA_PREFIXES) or _is_number(cell), repr(cell)


def test_explain_out_csv_neutralises_feature_values(run_cli, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    home, run_id = hostile_tabular_run()
    monkeypatch.setenv("LOUPE_HOME", str(home))
    out = tmp_path / "e.csv"
    code, err = run_cli("explain", run_id, "--input", str(home / "new_rows.csv"), "--row", "1",
                        "--out", str(out), "--quiet")
    assert code == 0, err
    rows = _cells(out)
    _assert_no_formula(rows)
    assert any(cell == "'@SUM(1,1)" for row in rows for cell in row)  # the row's value, quoted
    shap_col = rows[0].index("shap")
    assert all(_is_number(r[shap_col]) for r in rows[1:])  # numbers stay numbers


def test_dashboard_downloads_use_the_safe_writer() -> None:
    """The Predict and Runs pages offer csv_bytes output (the same rule as the CLI)."""
    root = Path(__file__).resolve().parents[2] / "dashboard"
    for page in ("views/predict.py", "views/runs.py"):
        source = (root / page).read_text()
        assert "csv_bytes(" in source and ".to_csv(" not in source, page
