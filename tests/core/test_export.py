"""Export: model zip/folder with a model card (no pickles), self-contained HTML report, masking."""

from __future__ import annotations

import argparse
import io
import json
import pickle
import re
import zipfile
from pathlib import Path

import numpy as np
import plotly.graph_objects as go
import pytest
import torch
from safetensors.torch import save_file

from core.config import RunConfig
from core.errors import LoupeError
from core.export import (
    build_html_report,
    collect_export,
    export_model_dir,
    export_model_folder,
    export_model_zip,
    export_run,
    is_pickle,
    write_html_report,
)
from core.store import RunStore
from core.tasks import get_task
from core.train import train

EMAIL_NOTE = "ask jane.doe@example.com first"
PHONE = "+44 20 7946 0958"
AGENT_EMAIL = "mark.agent@example.org"
FOLDER_EMAIL = "owner.x@example.net"
PLANTED = ("jane.doe@example.com", PHONE, "7946 0958", AGENT_EMAIL, FOLDER_EMAIL)


def _cfg(**over: object) -> RunConfig:
    cfg = get_task("tabular").default_config("house_prices")
    return cfg.replace(train={"epochs": 2, "max_steps": 20}, **over)


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[RunStore, str, str]:
    """Two tiny tabular runs in one store: the sample, and a CSV with planted personal data."""
    from data.make_house_prices import make_house_prices

    home = tmp_path_factory.mktemp("export_home")
    store = RunStore(home / "loupe.duckdb")
    clean = train(_cfg(), store).run_id
    frame = make_house_prices()
    frame["agent"] = np.array([AGENT_EMAIL, "walk-in", "web form"])[np.arange(len(frame)) % 3]
    folder = home / FOLDER_EMAIL
    folder.mkdir()
    frame.to_csv(folder / "houses.csv", index=False)
    cfg = _cfg(name=f"houses for {PHONE}", data={"source": str(folder / "houses.csv"), "target": "price"})
    pii = train(cfg, store).run_id
    store.set_notes(pii, EMAIL_NOTE)
    return store, clean, pii


def _members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def _assert_self_contained(html: str) -> None:
    external = r"<(script|img|iframe|link|source|embed)[^>]*\s(src|href)\s*=\s*[\"']?https?:"
    assert not re.search(external, html, re.I)
    assert "<link" not in html.lower()
    assert "@import" not in html and "url(http" not in html


def test_zip_holds_weights_card_and_no_pickles(trained: tuple[RunStore, str, str]) -> None:
    store, run_id, _ = trained
    files = _members(export_model_folder(run_id, store))
    assert {"model.safetensors", "config.json", "preprocessing.json", "run_config.json",
            "MODEL_CARD.md", "README.md", "metrics.json"} <= set(files)
    assert not any(n.endswith((".pkl", ".pickle", ".pt", ".pth", ".bin", ".ckpt")) for n in files)
    assert not any(is_pickle(data) for data in files.values())
    card = files["MODEL_CARD.md"].decode()
    run = store.get_run(run_id)
    for heading in ("## Model details", "## Data", "## Metrics", "## Intended use", "## Limitations",
                    "## Training configuration", "## Hardware and precision", "## How to load"):
        assert heading in card
    assert f"{run['metrics']['test_rmse']:,.0f}" in card and "| linear |" in card
    assert "Parameters: " in card and run["dataset_fingerprint"] in card
    assert "load_predictor" in card and "safetensors.torch import load_file" in card
    assert files["README.md"].decode().startswith("---\ntags: [loupe, tabular]")
    exported = json.loads(files["metrics.json"])["metrics"]
    assert exported["test_rmse"] == pytest.approx(run["metrics"]["test_rmse"])


def test_exported_folder_predicts_like_the_run(trained: tuple[RunStore, str, str], tmp_path: Path) -> None:
    from core.predict import load_predictor
    from data.make_house_prices import make_house_prices

    store, run_id, _ = trained
    out = export_run(run_id, tmp_path / "exported", store)
    rows = make_house_prices().head(20)
    again = get_task("tabular").load_predictor(out).predict(rows)["prediction"]
    original = load_predictor(run_id, store).predict(rows)["prediction"]
    np.testing.assert_allclose(again.to_numpy(), original.to_numpy(), rtol=1e-6)
    with pytest.raises(LoupeError, match="not an empty folder"):
        export_model_dir(run_id, out, store)


def test_zip_written_atomically_and_reproducibly(trained: tuple[RunStore, str, str], tmp_path: Path) -> None:
    store, run_id, _ = trained
    (tmp_path / "out").mkdir()  # a missing folder is an error (tests/hostile/test_output_paths.py)
    first = export_model_zip(run_id, tmp_path / "out" / "model.zip", store).read_bytes()
    second = export_model_zip(run_id, tmp_path / "out" / "model.zip", store, force=True).read_bytes()
    assert first == second
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["model.zip"]  # no .part left over
    with pytest.raises(LoupeError, match="is a folder"):
        export_model_zip(run_id, tmp_path / "out", store)


def test_html_report_is_self_contained_with_metrics(trained: tuple[RunStore, str, str]) -> None:
    from plotly.offline import get_plotlyjs

    store, run_id, _ = trained
    html = build_html_report(run_id, store)
    _assert_self_contained(html)
    assert html.count(get_plotlyjs()[:400]) == 1  # plotly.js inlined exactly once
    assert html.count("Plotly.newPlot") >= 3  # curves, predicted-vs-true/residuals, baselines
    run = store.get_run(run_id)
    assert f"{run['metrics']['test_rmse']:,.0f}" in html
    for section in ('id="summary"', 'id="metrics"', 'id="curves"', 'id="predictions"', 'id="limitations"'):
        assert section in html


def test_planted_personal_data_never_leaves(trained: tuple[RunStore, str, str], tmp_path: Path) -> None:
    from data.make_house_prices import make_house_prices

    store, _, run_id = trained
    explanation = go.Figure(go.Bar(x=[0.4, -0.2], y=[f"agent={AGENT_EMAIL}", "sqft"], orientation="h"))
    html = build_html_report(run_id, store, explanations={"Feature attributions": explanation})
    files = _members(export_model_folder(run_id, store))
    blobs = {"report.html": html.encode(), **files}
    for name, blob in blobs.items():
        for secret in PLANTED:
            assert secret.encode() not in blob, f"{secret!r} leaked into {name}"
    assert "&lt;EMAIL&gt;" in html and "&lt;PHONE_NUMBER&gt;" in html
    assert "agent=\\u003cEMAIL\\u003e" in html  # the explanation figure's label, masked
    card = files["MODEL_CARD.md"].decode()
    from markdown_it import MarkdownIt

    shown = MarkdownIt("commonmark").render(card)  # the card is escaped Markdown: render it
    assert "&lt;PHONE_NUMBER&gt;" in shown and "&lt;EMAIL&gt;" in shown
    prep = json.loads(files["preprocessing.json"])
    assert any(c.startswith("<EMAIL:") for c in prep["categories"]["agent"])
    assert "## What this export changed" in card and "preprocessing.json" in card
    out = tmp_path / "pii-model"
    export_model_dir(run_id, out, store)
    frame = make_house_prices().head(3).assign(agent="walk-in")
    assert np.isfinite(get_task("tabular").load_predictor(out).predict(frame)["prediction"]).all()


def _fake_classifier_run(store: RunStore, name: str) -> str:
    """A finished classification run written by hand: report fields as the text/image kinds write."""
    run_id = store.create_run(RunConfig(task="text", name=name))
    store.start_run(run_id, "CPU (2 cores), fp32", "fp32", "abc123")
    model = store.run_dir(run_id) / "model"
    model.mkdir()
    save_file({"w": torch.zeros(3, 4)}, str(model / "model.safetensors"))
    (model / "config.json").write_text(json.dumps({"architectures": ["BertForSequenceClassification"],
                                                   "id2label": {"0": "neg", "1": "pos"}}))
    (model / "stray.pt").write_bytes(pickle.dumps({"not": "allowed"}))
    report = {
        "split": "test",
        "confusion_matrix": {"labels": ["neg", "pos"], "matrix": [[8, 2], [1, 9]], "split": "test"},
        "per_class": [{"label": "neg", "precision": 0.89, "recall": 0.8, "f1": 0.84, "support": 10},
                      {"label": "pos", "precision": 0.82, "recall": 0.9, "f1": 0.86, "support": 10}],
        "worst_val_examples": [{"row": 3, "text": f"Great, mail me at {AGENT_EMAIL} </script><b>x</b>",
                                "true": "pos", "predicted": "neg", "confidence": 0.97}],
        "truncation": {"max_length": 128, "train": 2, "val": 0, "test": 1, "total": 3},
        "label_counts": {"labels": ["neg", "pos"], "train": [70, 70], "val": [10, 10], "test": [10, 10]},
        "notices": [f"Rows from {FOLDER_EMAIL} were skipped."],
    }
    (store.run_dir(run_id) / "report.json").write_text(json.dumps(report))
    store.add_artifact(run_id, "model", model)
    store.add_artifact(run_id, "report", store.run_dir(run_id) / "report.json")
    store.finish_run(run_id, {"test_accuracy": 0.85, "test_macro_f1": 0.85, "val_accuracy": 0.9,
                              "test_f1_neg": 0.84})
    return run_id


def test_classifier_report_figures_examples_and_masking(store: RunStore) -> None:
    run_id = _fake_classifier_run(store, "<script>alert(1)</script> sentiment")
    html = build_html_report(run_id, store)
    _assert_self_contained(html)
    assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)" in html
    assert "<b>x</b>" not in html
    assert AGENT_EMAIL not in html and FOLDER_EMAIL not in html
    assert "confusion matrix" in html and "per-class scores" in html
    assert "Most confident mistakes" in html and "&lt;EMAIL&gt;" in html
    assert "Texts are cut at 128 tokens" in html


def test_classifier_card_and_zip_leave_out_pickles(store: RunStore) -> None:
    run_id = _fake_classifier_run(store, "reviews")
    bundle = collect_export(run_id, store)
    assert "stray.pt" not in bundle.files
    card = bundle.files["MODEL_CARD.md"].decode()
    assert "Left out stray.pt" in card
    assert "Rows per split: train 140, val 20, test 20" in card
    assert "Labels (2): `neg`, `pos`" in card and "no 'other' class" in card
    assert "AutoModelForSequenceClassification" in card and "| accuracy | 0.85 | 0.9 |" in card
    assert "library_name: transformers" in bundle.files["README.md"].decode()


def test_is_pickle_by_content(tmp_path: Path) -> None:
    assert is_pickle(pickle.dumps([1, 2]))
    torch.save({"a": torch.ones(2)}, tmp_path / "x.bin")
    assert is_pickle((tmp_path / "x.bin").read_bytes())
    save_file({"a": torch.ones(2)}, str(tmp_path / "x.safetensors"))
    assert not is_pickle((tmp_path / "x.safetensors").read_bytes())
    assert not is_pickle(b'{"json": true}')


def test_cli_export_writes_zip_and_report(trained: tuple[RunStore, str, str], tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    from core.cli.export import add_parsers, cmd_export

    store, run_id, _ = trained
    monkeypatch.setenv("LOUPE_HOME", str(store.home))
    parser = argparse.ArgumentParser(prog="loupe")
    add_parsers(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["export", run_id[:6], "--out", str(tmp_path / "m.zip"),
                              "--report", str(tmp_path / "r.html"), "--json"])
    assert cmd_export(args) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["run_id"] == run_id
    assert "MODEL_CARD.md" in _members((tmp_path / "m.zip").read_bytes())
    assert (tmp_path / "r.html").read_text().startswith("<!DOCTYPE html>")
    with pytest.raises(LoupeError, match="No run"):
        cmd_export(parser.parse_args(["export", "nope", "--out", str(tmp_path / "x.zip")]))


def test_write_html_report_atomic(trained: tuple[RunStore, str, str], tmp_path: Path) -> None:
    store, run_id, _ = trained
    (tmp_path / "deep").mkdir()  # a missing folder is an error (tests/hostile/test_output_paths.py)
    path = write_html_report(run_id, tmp_path / "deep" / "report.html", store)
    assert path.read_text().rstrip().endswith("</html>")
    assert [p.name for p in path.parent.iterdir()] == ["report.html"]


def test_card_and_masking_come_from_the_task(trained: tuple[RunStore, str, str]) -> None:
    """The model folder is described by ``Task.artifact_files`` and its configs masked by
    ``Task.mask_artifact_config``: export and card name no kind's file themselves."""
    store, clean, pii = trained
    task = get_task("tabular")
    card = collect_export(clean, store).files["MODEL_CARD.md"].decode()
    for name, what in task.artifact_files.items():
        assert f"- `{name}`: {what}" in card.replace("\\", "")  # Markdown escapes removed
    masked_card = collect_export(pii, store).files["MODEL_CARD.md"].decode()
    _, consequence = task.mask_artifact_config("preprocessing.json", {"categories": {}})
    assert consequence and consequence in masked_card.replace("\\", "")
    same, nothing = task.mask_artifact_config("config.json", {"hidden_sizes": [8]})
    assert same == {"hidden_sizes": [8]} and nothing == ""


def test_report_draws_with_the_dashboards_builders(trained: tuple[RunStore, str, str]) -> None:
    """The report's figures are core.plots figures (same colours as the Runs page), masked."""
    from core import plots
    from core.export.bundle import load_report
    from core.export.report_html import _curve_figures, _prediction_figures

    store, run_id, _ = trained
    report = load_report(store, run_id)
    figures = _prediction_figures(report)
    shown = plots.report_figures(report)
    assert [f.to_json() for f in figures[:len(shown)]] == [f.to_json() for f in shown]
    curves = _curve_figures(store.curves(run_id))
    assert curves and curves[0].to_json() == plots.curves_figure(store.curves(run_id), "loss").to_json()
    assert figures[0].data[0].marker.color == plots.PALETTE[0]
