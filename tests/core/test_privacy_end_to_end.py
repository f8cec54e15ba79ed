"""Planted personal data goes through the whole journey and never comes out raw.

A table from data/make_pii (names, e-mails, phones, cards, IBANs, IPs, URLs, SSNs, birth dates,
postcodes, free-text notes) is trained on as a tabular run through the dashboard's job runner (a
child process writing train.log) and its notes as a text run through the `loupe` CLI; both are
predicted from a file, explained (table SHAP, text SHAP, attention, global importance), and exported
(model zip + HTML report). Then every byte Loupe wrote outside the run's private model folders is
scanned for every planted value: the DuckDB file (raw bytes, plus every text column of every table
through SQL, since DuckDB may compress strings on disk), the training log, every command's output,
the prediction files, the explanation files and the exports (zip members decompressed).
"""

from __future__ import annotations

import io
import time
import zipfile
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from core.config import RunConfig
from core.jobs import start_job
from core.store import RunStore
from data.make_pii import make_pii
from tests.hostile.conftest import cli

ROWS = 120


@pytest.fixture(scope="module")
def journey(tmp_path_factory: pytest.TempPathFactory) -> dict:
    home = tmp_path_factory.mktemp("pii_home")
    src = tmp_path_factory.mktemp("pii_src")
    out = tmp_path_factory.mktemp("pii_out")
    table, truth = make_pii(rows=ROWS)
    table.to_csv(src / "customers.csv", index=False)
    notes = pd.DataFrame({"text": table["notes"],
                          "label": ["complaint" if i % 2 else "praise" for i in range(ROWS)]})
    notes.to_csv(src / "notes.csv", index=False)
    table.drop(columns=["purchase_total"]).head(20).to_csv(src / "new_customers.csv", index=False)
    notes[["text"]].head(12).to_csv(src / "new_notes.csv", index=False)

    outputs: list[tuple[str, str]] = []

    def run(*args: str) -> str:
        proc = cli(home, *args, timeout=600)
        outputs.append((" ".join(args[:2]), proc.stdout + proc.stderr))
        assert proc.returncode == 0, proc.stdout + proc.stderr
        return proc.stdout

    # Tabular: the dashboard's path (a queued job in a child process that writes train.log).
    store = RunStore(home / "loupe.duckdb")
    cfg = RunConfig(task="tabular", name="customers").replace(
        data={"source": str(src / "customers.csv"), "target": "purchase_total"},
        train={"epochs": 2, "max_steps": 8, "batch_size": 32})
    import os

    old_home = os.environ.get("LOUPE_HOME")
    os.environ["LOUPE_HOME"] = str(home)
    try:
        tab = start_job(cfg, store)
        deadline = time.time() + 600
        while store.get_run(tab)["status"] in ("queued", "running") and time.time() < deadline:
            time.sleep(0.5)
    finally:
        if old_home is None:
            os.environ.pop("LOUPE_HOME", None)
        else:
            os.environ["LOUPE_HOME"] = old_home
    log = store.run_dir(tab, create=False) / "train.log"
    assert store.get_run(tab)["status"] == "completed", log.read_text()

    # Text: the CLI path.
    run("train", "text", "--data", str(src / "notes.csv"), "--max-length", "48", "--max-steps", "3",
        "--epochs", "1", "--batch-size", "16", "--name", "notes", "--json")
    text = store.list_runs(task="text").iloc[0]["id"]

    files = {
        "tab_pred": out / "tab_pred.csv", "text_pred": out / "text_pred.jsonl",
        "tab_explain": out / "tab_explain.html", "tab_explain_csv": out / "tab_explain.csv",
        "tab_global": out / "tab_global.html", "text_explain": out / "text_explain.html",
        "text_attention": out / "text_attention.html", "tab_zip": out / "tab_model.zip",
        "tab_report": out / "tab_report.html", "text_zip": out / "text_model.zip",
        "text_report": out / "text_report.html",
    }
    run("predict", tab, "--data", str(src / "new_customers.csv"), "--out", str(files["tab_pred"]))
    run("predict", text, "--data", str(src / "new_notes.csv"), "--out", str(files["text_pred"]))
    run("predict", text, "--text", table["notes"][0])
    run("explain", tab, "--input", str(src / "new_customers.csv"), "--row", "3", "--html",
        str(files["tab_explain"]), "--out", str(files["tab_explain_csv"]), "--quiet")
    run("explain", tab, "--method", "global", "--rows", "40", "--html", str(files["tab_global"]),
        "--quiet")
    run("explain", text, "--input", table["notes"][8], "--max-evals", "60", "--html",
        str(files["text_explain"]), "--quiet", "--json")
    run("explain", text, "--input", table["notes"][2], "--method", "attention", "--html",
        str(files["text_attention"]), "--quiet")
    run("export", tab, "--out", str(files["tab_zip"]), "--report", str(files["tab_report"]))
    run("export", text, "--out", str(files["text_zip"]), "--report", str(files["text_report"]))
    run("runs")
    run("show", tab)
    run("show", text)
    return {"home": home, "store": store, "truth": truth, "files": files, "outputs": outputs,
            "log": log, "runs": (tab, text)}


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
