"""Planted personal data goes through the whole journey and never comes out raw.

The journey is the privacy audit's (tests/core/privacy_journey.py, built once per session by the
``audit`` fixture in tests/core/conftest.py): a table from data/make_pii (names, e-mails, phones,
cards, IBANs, IPs, URLs, SSNs, birth dates, postcodes, free-text notes) trained on as a tabular run
through the dashboard's job runner (a child process writing train.log), its notes as a text run and
an image run through the `loupe` CLI; each is predicted from a file, explained (table SHAP, text
SHAP, attention, global importance) and exported (model zip + HTML report). Here every byte Loupe
wrote is scanned for every planted data/make_pii value, case-sensitively and with no exception for
the training data's path: the DuckDB file (raw bytes, plus every text column of every table through
SQL, since DuckDB may compress strings on disk), the training log, every command's output, the
prediction files, the explanation files and the exports (zip members decompressed). The audit adds
the values planted in names, labels, tags and inputs, and the dashboard pages.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import duckdb
import pandas as pd
import pytest


@pytest.fixture
def journey(audit: dict) -> dict:
    return audit


def _secrets(truth: pd.DataFrame) -> list[str]:
    """Every planted value long enough not to occur by chance (a bare first name such as 'Anna',
    or a 5-digit ZIP, can turn up in a tokenizer vocabulary or a float's digits)."""
    values = {str(v) for v in truth["value"] if len(str(v)) >= 8}
    return sorted(values)


def _leaks(blob: bytes, secrets: list[str]) -> list[str]:
    return [s for s in secrets if s.encode() in blob]


def _zip_members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(path.read_bytes())) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def test_the_journey_produced_every_artifact(journey: dict) -> None:
    """Guard against a scan of nothing: each output exists and carries masked placeholders."""
    for name, path in journey["files"].items():
        assert path.is_file() and path.stat().st_size > 0, name
    assert "<EMAIL>" in journey["files"]["text_pred"].read_text() or \
        "\\u003cEMAIL\\u003e" in journey["files"]["text_pred"].read_text()
    assert len(_secrets(journey["truth"])) > 400
    con = duckdb.connect(str(journey["home"] / "loupe.duckdb"), read_only=True)
    try:
        cached = con.execute("SELECT count(*) FROM explanations").fetchone()[0]
    finally:
        con.close()
    assert cached >= 4  # table row, global, text SHAP, attention


def test_no_planted_value_in_the_duckdb_file(journey: dict) -> None:
    secrets = _secrets(journey["truth"])
    home: Path = journey["home"]
    for path in home.glob("loupe.duckdb*"):
        assert _leaks(path.read_bytes(), secrets) == [], path.name
    con = duckdb.connect(str(home / "loupe.duckdb"), read_only=True)
    try:
        found = []
        tables = [r[0] for r in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'").fetchall()]
        for table in tables:
            columns = [r[0] for r in con.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_name = ?",
                [table]).fetchall()]
            for column in columns:
                values = con.execute(f'SELECT CAST("{column}" AS VARCHAR) FROM "{table}" '
                                     f'WHERE "{column}" IS NOT NULL').fetchall()
                text = "\n".join(v[0] for v in values).encode()
                found += [(table, column, s) for s in _leaks(text, secrets)]
    finally:
        con.close()
    assert found == [], found[:10]


def test_no_planted_value_in_logs_or_command_output(journey: dict) -> None:
    secrets = _secrets(journey["truth"])
    assert _leaks(journey["log"].read_bytes(), secrets) == []
    for command, output in journey["outputs"]:
        assert _leaks(output.encode(), secrets) == [], command


def test_no_planted_value_in_predictions_explanations_or_exports(journey: dict) -> None:
    secrets = _secrets(journey["truth"])
    leaked = {}
    for name, path in journey["files"].items():
        blobs = _zip_members(path) if path.suffix == ".zip" else {path.name: path.read_bytes()}
        for member, blob in blobs.items():
            if hits := _leaks(blob, secrets):
                leaked[f"{name}:{member}"] = hits[:3]
    assert leaked == {}
