"""Privacy audit (issue 12 item 4): plant personal data of every entity type in every place a user
can put data, run every command and page, and scan every byte Loupe writes or prints.

Places: table cells (data/make_pii), column names, class labels (text and image), image class
folder names and file names, input file and folder names, run names, notes, tags, and the text
inputs of predict/explain. Outputs: the DuckDB file (raw bytes, and every text column through SQL,
since DuckDB may compress strings on disk), the training log of a dashboard-started job, every CLI
command's stdout/stderr (human and --json, and an error message), every file written (predictions,
explanation tables and pages, export zips member by member, HTML reports), every dashboard page
through AppTest (the protobuf of every element) and one pass in Chromium (page HTML and text).

One thing is excluded on purpose and documented in docs/security.md: the path of a run's training
data in ``runs.config_json`` (resume and global explanations re-read the data from it). The
planted values therefore go *inside* the data (class folders, image files, cells, column names)
and into the names of prediction/explanation inputs, never into the training data's own path.
"""

from __future__ import annotations

import io
import json
import os
import zipfile
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from core.export import TOKENIZER_PREFIXES
from tests.core.privacy_journey import PLANTED


def _secrets(truth: pd.DataFrame) -> list[str]:
    """Every planted value long enough not to occur by chance (see test_privacy_end_to_end)."""
    return sorted({str(v) for v in truth["value"] if len(str(v)) >= 8} | set(PLANTED))


def _leaks(blob: bytes, secrets: list[str]) -> list[str]:
    lowered = blob.lower()
    return [s for s in secrets if s.encode().lower() in lowered]


def _zip_members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(path.read_bytes())) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def _training_paths(con: duckdb.DuckDBPyConnection) -> list[bytes]:
    """The documented exception: each run's training data path (see the module docstring)."""
    paths = []
    for (raw,) in con.execute("SELECT config_json FROM runs").fetchall():
        data = json.loads(raw).get("data", {})
        paths += [str(data[k]).encode() for k in ("source", "negative_source") if data.get(k)]
    return paths


def test_every_place_was_planted_and_every_output_exists(audit: dict) -> None:
    for name, path in audit["files"].items():
        assert path.is_file() and path.stat().st_size > 0, name
    store = audit["store"]
    labels = json.loads(_zip_members(audit["files"]["text_zip"])["labels.json"]) \
        if "labels.json" in _zip_members(audit["files"]["text_zip"]) else None
    assert labels is None or len(labels["labels"]) == 4
    assert len(audit["outputs"]) >= 20
    assert store.count_runs() == 3


def test_export_fingerprint_equals_the_runs(audit: dict) -> None:
    store = audit["store"]
    for kind in ("text", "image", "tab"):
        run = store.get_run(audit["runs"]["tabular" if kind == "tab" else kind])
        fingerprint = run["dataset_fingerprint"]
        assert len(fingerprint) == 64
        members = _zip_members(audit["files"][f"{kind}_zip"])
        assert f"`{fingerprint}`" in members["MODEL_CARD.md"].decode(), kind
        for name, blob in members.items():
            if name.endswith(".json") and b'"fingerprint"' in blob:
                assert json.loads(blob)["fingerprint"] == fingerprint, (kind, name)
        assert fingerprint in audit["files"][f"{kind}_report"].read_text(), kind


def test_no_planted_value_in_the_duckdb_store(audit: dict) -> None:
    secrets = _secrets(audit["truth"])
    home: Path = audit["home"]
    con = duckdb.connect(str(home / "loupe.duckdb"), read_only=True)
    try:
        allowed = _training_paths(con)
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
                for path in allowed:
                    text = text.replace(path, b"")
                found += [(table, column, s) for s in _leaks(text, secrets)]
    finally:
        con.close()
    for path in home.glob("loupe.duckdb*"):
        blob = path.read_bytes()
        for allowed_path in allowed:
            blob = blob.replace(allowed_path, b"")
        found += [(path.name, "bytes", s) for s in _leaks(blob, secrets)]
    assert not found, "\n".join(map(str, sorted(set(found))))


def test_no_planted_value_in_logs_or_command_output(audit: dict) -> None:
    secrets = _secrets(audit["truth"])
    found = [("train.log", s) for s in _leaks(audit["log"].read_bytes(), secrets)]
    for command, output in audit["outputs"]:
        found += [(command, s) for s in _leaks(output.encode(), secrets)]
    assert not found, "\n".join(map(str, sorted(set(found))))


def test_no_planted_value_in_written_files(audit: dict) -> None:
    secrets = _secrets(audit["truth"])
    leaked = {}
    for name, path in audit["files"].items():
        blobs = _zip_members(path) if path.suffix == ".zip" else {path.name: path.read_bytes()}
        for member, blob in blobs.items():
            data = member.encode() + b"\n" + blob
            # The base model's own vocabulary (lower-case words such as 'isabella') is shipped by
            # its package, not written from the data: matched case-sensitively.
            vocab = member.rsplit("/", 1)[-1].startswith(TOKENIZER_PREFIXES)
            hits = [s for s in secrets if s.encode() in data] if vocab else _leaks(data, secrets)
            if hits:
                leaked[f"{name}:{member}"] = hits[:3]
    assert not leaked, "\n".join(map(str, sorted(leaked.items())))


def _element_bytes(node: object) -> bytes:
    out = b""
    proto = getattr(node, "proto", None)
    if proto is not None and hasattr(proto, "SerializeToString"):
        out += proto.SerializeToString()
    children = getattr(node, "children", None) or {}
    for child in (children.values() if isinstance(children, dict) else children):
        out += _element_bytes(child)
    return out


def test_no_planted_value_on_dashboard_pages(audit: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.dashboard.conftest import no_exception, open_page

    monkeypatch.setenv("LOUPE_HOME", str(audit["home"]))
    secrets = _secrets(audit["truth"])
    found = []
    for page in ("home", "runs", "predict", "explain", "export", "train", "data"):
        at = open_page(page, timeout=300)
        no_exception(at)
        if page == "export":
            at.button(key="prep_zip").click().run(timeout=300)
            at.button(key="prep_html").click().run(timeout=300)
            no_exception(at)
        blob = _element_bytes(at._tree)
        assert len(blob) > 200, page
        found += [(page, s) for s in _leaks(blob, secrets)]
    assert not found, "\n".join(map(str, sorted(set(found))))


@pytest.mark.skipif(not os.path.exists(os.environ.get("LOUPE_CHROMIUM", "/usr/bin/chromium")),
                    reason="no Chromium")
def test_no_planted_value_in_the_browser(audit: dict) -> None:
    from tests.browser.harness import PAGES, browser, goto, serve

    secrets = _secrets(audit["truth"])
    found = []
    received: list[bytes] = []  # every websocket frame: tables are drawn on a canvas, not in the DOM

    def on_socket(ws) -> None:  # noqa: ANN001
        ws.on("framereceived", lambda payload: received.append(
            payload if isinstance(payload, bytes) else str(payload).encode()))

    with serve(audit["home"], log=audit["home"].parent / "audit_dashboard.log") as url, browser() as page:
        page.on("websocket", on_socket)
        for name in PAGES:
            received.clear()
            goto(page, url, name, timeout=180)
            page.wait_for_timeout(1500)
            blob = (page.content() + "\n" + page.inner_text("body")).encode() + b"\n".join(received)
            assert len(blob) > 1000, name
            found += [(name, s) for s in _leaks(blob, secrets)]
    assert not found, "\n".join(map(str, sorted(set(found))))
