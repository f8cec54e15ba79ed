"""The privacy journey both privacy suites scan (test_privacy_audit, test_privacy_end_to_end).

Built once per test session by the ``audit`` fixture in tests/core/conftest.py: see
test_privacy_audit's docstring for what is planted where and what is scanned.
"""

from __future__ import annotations

import io
import os
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from data.make_pii import make_pii
from tests.hostile.conftest import cli

# One value per entity type, none of them from data/make_pii (cells bring those).
EMAIL, EMAIL_LABEL, EMAIL_FOLDER, EMAIL_COLUMN, EMAIL_INPUT = (
    "mateus.kowalczyk@mailbox.example", "jane.roe@mailbox.example", "lena.berg@mailbox.example",
    "col.owner@mailbox.example", "ada.obi@mailbox.example")
PHONE, PHONE_LABEL, PHONE_COLUMN, PHONE_FILE = (
    "+1 (415) 555-0199", "+1 (415) 555-0142", "+1 (415) 555-0123", "+1 (415) 555-0166")
CARD = "4539 1488 0343 6467"
IBAN, IBAN_LABEL = "GB82 WEST 1234 5698 7654 32", "DE89 3704 0044 0532 0130 00"
IP, IP_FOLDER, IP_INPUT = "203.0.113.77", "198.51.100.23", "192.0.2.140"
URL = "https://portal.example.net/u/rasmus"
SSN = "512-44-7721"
POSTAL = "SW1A 1AA"
DOB = "23/11/1971"
PERSONS = ("Mateus Kowalczyk", "Rasmus Nielsen", "Aiyana Whitehorse")  # free text: see issue 12a

TEXT_LABELS = (EMAIL_LABEL, PHONE_LABEL, IBAN_LABEL, "Rasmus Nielsen")
IMAGE_CLASSES = (EMAIL_FOLDER, IP_FOLDER, SSN)
RUN_NAME = f"audit for {EMAIL} {PHONE}"
NOTES = (f"Call Mateus Kowalczyk at {PHONE} about card {CARD}, IBAN {IBAN}, address {POSTAL}, "
         f"born {DOB}, see {URL}")
TAGS = (IP, f"owner {EMAIL}")
INPUT_TEXT = f"Refund to {IBAN} for {EMAIL_INPUT} from {IP_INPUT}, Aiyana Whitehorse said, born {DOB}"
PLANTED = (EMAIL, EMAIL_LABEL, EMAIL_FOLDER, EMAIL_COLUMN, EMAIL_INPUT, PHONE, PHONE_LABEL,
           PHONE_COLUMN, PHONE_FILE, CARD, CARD.replace(" ", ""), IBAN, IBAN_LABEL, IP, IP_FOLDER,
           IP_INPUT, URL, SSN, POSTAL, DOB, *PERSONS)
ROWS = 120


def _png(color: tuple[int, int, int], seed: int) -> bytes:
    from PIL import Image

    rng = np.random.default_rng(seed)
    pixels = np.clip(np.array(color) + rng.integers(-30, 30, (24, 24, 3)), 0, 255).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()


def _with_home(home: Path, fn):  # noqa: ANN001, ANN202
    old = os.environ.get("LOUPE_HOME")
    os.environ["LOUPE_HOME"] = str(home)
    try:
        return fn()
    finally:
        os.environ.pop("LOUPE_HOME", None) if old is None else os.environ.update(LOUPE_HOME=old)


def build_audit(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Plant, train (three kinds), predict, explain and export; return what the tests scan."""
    from core.config import RunConfig
    from core.jobs import start_job
    from core.store import RunStore

    home = tmp_path_factory.mktemp("audit_home")
    src = tmp_path_factory.mktemp("audit_src")
    out = tmp_path_factory.mktemp("audit_out")
    inputs = src / f"inputs from {IP_INPUT}"  # a folder name
    inputs.mkdir()

    # Cells and column names: the make_pii table plus two numeric columns named by an e-mail/phone.
    table, truth = make_pii(rows=ROWS)
    table[EMAIL_COLUMN] = np.arange(ROWS) % 7
    table[PHONE_COLUMN] = np.arange(ROWS) % 5 * 1.5
    table.to_csv(src / "customers.csv", index=False)
    table.drop(columns=["purchase_total"]).head(15).to_csv(inputs / f"rows {EMAIL_INPUT}.csv", index=False)
    # Class labels and free text.
    sentences = [f"{n} {t}" for n, t in zip(table["notes"], [NOTES, INPUT_TEXT, "fine", "slow"] * ROWS,
                                             strict=False)]
    texts = pd.DataFrame({"text": sentences, "label": [TEXT_LABELS[i % 4] for i in range(ROWS)]})
    texts.to_csv(src / "notes.csv", index=False)
    texts[["text"]].head(8).to_csv(inputs / f"texts {PHONE_FILE}.csv", index=False)
    # Image class folders and file names.
    images = src / "images"
    for c, name in enumerate(IMAGE_CLASSES):
        (images / name).mkdir(parents=True)
        for i in range(10):
            color = [(220, 40, 40), (40, 200, 60), (40, 60, 220)][c]
            (images / name / f"photo {i} {PHONE_FILE}.png").write_bytes(_png(color, 10 * c + i))

    outputs: list[tuple[str, str]] = []

    def run(*args: str, code: int = 0) -> str:
        proc = cli(home, *args, timeout=900)
        outputs.append((" ".join(args[:2]), proc.stdout + proc.stderr))
        assert proc.returncode == code, proc.stdout + proc.stderr
        return proc.stdout

    store = RunStore(home / "loupe.duckdb")
    cfg = RunConfig(task="tabular", name=RUN_NAME, tags=TAGS).replace(
        data={"source": str(src / "customers.csv"), "target": "purchase_total"},
        train={"epochs": 2, "max_steps": 8, "batch_size": 32})
    tab = _with_home(home, lambda: start_job(cfg, store))  # the dashboard's path: a logged child job
    deadline = time.time() + 900
    while store.get_run(tab)["status"] in ("queued", "running") and time.time() < deadline:
        time.sleep(0.5)
    log = store.run_dir(tab, create=False) / "train.log"
    assert store.get_run(tab)["status"] == "completed", log.read_text()
    _with_home(home, lambda: store.set_notes(tab, NOTES))

    run("train", "text", "--data", str(src / "notes.csv"), "--max-length", "40", "--max-steps", "3",
        "--epochs", "1", "--batch-size", "16", "--name", RUN_NAME, "--tag", TAGS[0], "--tag", TAGS[1],
        "--json")
    text = store.list_runs(task="text").iloc[0]["id"]
    run("train", "image", "--data", str(images), "--model", "small_cnn", "--image-size", "24",
        "--max-steps", "4", "--epochs", "2", "--batch-size", "8", "--name", RUN_NAME, "--quiet")
    image = store.list_runs(task="image").iloc[0]["id"]
    _with_home(home, lambda: [store.set_notes(r, NOTES) for r in (text, image)])

    files = {k: out / v for k, v in {
        "tab_pred": "tab_pred.csv", "text_pred": "text_pred.jsonl", "image_pred": "image_pred.csv",
        "tab_explain": "tab_explain.html", "tab_explain_csv": "tab_explain.csv",
        "tab_global": "tab_global.html", "text_explain": "text_explain.html",
        "text_explain_csv": "text_explain.csv", "text_attention": "text_attention.html",
        "image_explain": "image_explain.html", "tab_zip": "tab_model.zip", "tab_report": "tab_report.html",
        "text_zip": "text_model.zip", "text_report": "text_report.html", "image_zip": "image_model.zip",
        "image_report": "image_report.html"}.items()}
    run("predict", tab, "--data", str(inputs / f"rows {EMAIL_INPUT}.csv"), "--out", str(files["tab_pred"]))
    run("predict", text, "--data", str(inputs / f"texts {PHONE_FILE}.csv"), "--out", str(files["text_pred"]))
    run("predict", text, "--text", INPUT_TEXT)
    run("predict", text, "--text", INPUT_TEXT, "--json")
    run("predict", image, "--data", str(images), "--out", str(files["image_pred"]))
    run("explain", tab, "--input", str(inputs / f"rows {EMAIL_INPUT}.csv"), "--row", "2", "--html",
        str(files["tab_explain"]), "--out", str(files["tab_explain_csv"]), "--quiet")
    run("explain", tab, "--method", "global", "--rows", "30", "--html", str(files["tab_global"]), "--quiet")
    run("explain", text, "--input", INPUT_TEXT, "--max-evals", "60", "--html", str(files["text_explain"]),
        "--out", str(files["text_explain_csv"]), "--quiet", "--json")
    run("explain", text, "--input", INPUT_TEXT, "--method", "attention", "--html",
        str(files["text_attention"]), "--quiet")
    first_image = next((images / IMAGE_CLASSES[0]).iterdir())
    run("explain", image, "--input", str(first_image), "--max-evals", "40", "--html",
        str(files["image_explain"]), "--quiet")
    for kind, run_id in (("tab", tab), ("text", text), ("image", image)):
        run("export", run_id, "--out", str(files[f"{kind}_zip"]), "--report", str(files[f"{kind}_report"]))
    run("runs")
    run("runs", "--json")
    for run_id in (tab, text, image):
        run("show", run_id)
        run("show", run_id, "--json")
    run("train", "tabular", "--data", str(src / "customers.csv"), "--target", EMAIL_COLUMN[:-1], code=2)
    return {"home": home, "store": store, "truth": truth, "files": files, "outputs": outputs,
            "log": log, "runs": {"tabular": tab, "text": text, "image": image}}
