"""A self-contained HTML report of one run, to hand to someone who will never open Loupe.

One file, no network: plotly.js is embedded once in ``<head>`` and every figure after it is a
``<div>`` with its data inline; images are ``data:`` URIs. Privacy mode applies as on screen: every
text that came from the data (run name, notes, tags, source names, labels, notices, misclassified
texts, file names) is masked and HTML-escaped through the output boundary (``core.output``), every
table through ``mask_frame`` then escaped, and the strings inside figures (including explanation
figures passed in) masked too. Machine fields (run id, fingerprint) are never masked; the data
source is shown by masked file name (or relative to LOUPE_HOME), never as an absolute path.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from core import plots
from core.export.bundle import load_report
from core.export.card_facts import (
    baseline_models,
    fmt,
    labels_of,
    metric_table,
    read_configs,
    split_rows,
)
from core.export.model_card import limitations
from core.output import atomic_write, check_output, html_text, mask_message, md_inline_html, show_source
from core.output.figures import mask_figure
from core.privacy import mask_frame
from core.store import RunStore

CURVE_NAMES = ("loss", "accuracy", "macro_f1", "rmse", "mae", "r2", "lr")
_DATA_URI = re.compile(r"^data:image/(png|jpeg|webp|gif);base64,[A-Za-z0-9+/=]+$")
Explanations = Mapping[str, Any] | Sequence[Any] | None

CSS = """
:root { --fg:#1d2330; --muted:#5d6675; --line:#e3e6eb; --accent:#3b5bdb; --bg:#fafbfc; }
* { box-sizing: border-box; }
body { margin:0; font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif; color:var(--fg);
       background:var(--bg); }
header { background:#fff; border-bottom:1px solid var(--line); padding:28px 0 18px; }
main, .wrap { max-width:1080px; margin:0 auto; padding:0 24px; }
h1 { margin:0 0 4px; font-size:26px; } h2 { margin:36px 0 12px; font-size:19px; }
.sub { color:var(--muted); margin:0; }
nav { margin-top:12px; font-size:14px; } nav a { color:var(--accent); margin-right:14px;
      text-decoration:none; }
section { background:#fff; border:1px solid var(--line); border-radius:8px; padding:4px 20px 16px;
          margin:18px 0; }
dl { display:grid; grid-template-columns:max-content 1fr; gap:6px 18px; margin:8px 0; }
dt { color:var(--muted); } dd { margin:0; overflow-wrap:anywhere; }
table { border-collapse:collapse; margin:8px 0 14px; font-size:14px; }
th, td { padding:5px 12px; border-bottom:1px solid var(--line); text-align:left; vertical-align:top; }
th { background:#f3f5f8; font-weight:600; } td.num { text-align:right; font-variant-numeric:tabular-nums; }
ul { padding-left:20px; } li { margin:3px 0; }
.notice { border-left:3px solid #f0a020; padding-left:10px; }
.gallery { display:flex; flex-wrap:wrap; gap:12px; }
.gallery figure { margin:0; width:132px; font-size:12px; color:var(--muted); }
.gallery img { width:128px; height:128px; object-fit:contain; background:#eee; image-rendering:pixelated; }
footer { color:var(--muted); font-size:13px; margin:30px auto 40px; }
"""


# --- masking helpers -----------------------------------------------------------------------------
def _esc(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _m(value: Any) -> str:
    """Mask, then escape: for every text that came from the data."""
    return html_text(value)


def _md(value: Any) -> str:
    """A sentence of the model card (already masked and Markdown-escaped) as inert HTML."""
    return md_inline_html(str(value))


def _table(frame: pd.DataFrame, numeric_cols: Iterable[str] = ()) -> str:
    """An HTML table of ``frame`` after ``mask_frame``; numbers formatted for people."""
    if frame.empty:
        return ""
    masked = mask_frame(frame.reset_index(drop=True))
    numeric = set(numeric_cols) | {c for c in masked.columns if pd.api.types.is_numeric_dtype(masked[c])}
    head = "".join(f"<th>{_m(c)}</th>" for c in masked.columns)
    rows = []
    for record in masked.itertuples(index=False):
        cells = []
        for col, value in zip(masked.columns, record, strict=True):
            is_num = (col in numeric and isinstance(value, (int, float, np.number))
                      and not isinstance(value, bool))
            text = fmt(float(value) if isinstance(value, np.floating) else value) if is_num else value
            cells.append(f'<td class="num">{_esc(text)}</td>' if is_num else f"<td>{_esc(text)}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


# --- figures: the dashboard's builders (core.plots), so a chart looks the same in both ----------
def _curve_figures(curves: pd.DataFrame) -> list[go.Figure]:
    if curves.empty:
        return []
    present = set(curves["name"])
    names = [n for n in CURVE_NAMES if n in present][:6] or sorted(present)[:4]
    return [plots.curves_figure(curves, name) for name in names]


def _prediction_figures(report: dict[str, Any]) -> list[go.Figure]:
    """Confusion matrix, or predicted-vs-true and residuals (as on the Runs page), then the
    baselines and per-class bars where the report has them."""
    figures = []
    if report.get("confusion_matrix") or (report.get("test_predictions") or {}).get("true"):
        figures += plots.report_figures(report)
    test = (report.get("baselines") or {}).get("test")
    if test and any("rmse" in scores for scores in test.values()):
        figures.append(plots.baselines_figure(test, "rmse"))
    if report.get("per_class"):
        figures.append(plots.per_class_figure(report["per_class"],
                                              f"per-class scores ({report.get('split', 'test')})"))
    return figures


# --- the document --------------------------------------------------------------------------------
class _Doc:
    """Collects sections; embeds plotly.js once, before the first figure."""

    def __init__(self) -> None:
        self.sections: list[tuple[str, str, str]] = []
        self.figures = 0

    def figure(self, fig: go.Figure | None) -> str:
        if fig is None:
            return ""
        self.figures += 1
        return mask_figure(fig).to_html(full_html=False, include_plotlyjs=False,
                                        div_id=f"figure-{self.figures}",
                                        config={"displaylogo": False, "responsive": True})

    def add(self, anchor: str, title: str, body: str) -> None:
        if body.strip():
            self.sections.append((anchor, title, body))


def build_html_report(run_id: str, store: RunStore | None = None, explanations: Explanations = None,
                      comparisons: Sequence[str] | None = None) -> str:
    """The report as one HTML string. ``explanations``: plotly figures, (title, figure) pairs or
    a {title: figure} mapping (e.g. SHAP plots); their texts are masked like everything else.
    ``comparisons``: ids of the run's pinned what-if comparisons to include (None: all of
    them, newest first; []: none)."""
    store = store or RunStore()
    run = store.get_run(run_id)
    report = load_report(store, run["id"])
    try:
        model_dir: Path | None = store.artifact_path(run["id"], "model")
    except Exception:
        model_dir = None
    configs = read_configs(model_dir)
    doc = _Doc()
    doc.add("summary", "Run summary", _summary(run, report, store.system(run["id"])))
    doc.add("metrics", "Metrics", _metrics(run, report))
    doc.add("curves", "Training curves", "".join(map(doc.figure, _curve_figures(store.curves(run["id"])))))
    doc.add("predictions", "Predictions", "".join(map(doc.figure, _prediction_figures(report))))
    doc.add("examples", "Most confident mistakes", _examples(report))
    doc.add("slices", "Where the model does worst (test split)", _slices(run, store, doc))
    shown = [(f"<h3>{_m(title)}</h3>" if title else "") + doc.figure(fig)
             for title, fig in _explanations(explanations)]
    doc.add("explanations", "Explanations", "".join(shown))
    from core.export.report_pins import comparisons_block
    from core.whatif.pins import pinned_comparisons

    pins = pinned_comparisons(run["id"], store, None if comparisons is None else list(comparisons))
    doc.add("whatif", "What-if comparisons", comparisons_block(pins, doc.figure))
    from core.sweeps.report import sweep_block  # issue 18: the sweep this run came from

    doc.add("sweep", "Sweep", sweep_block(run["id"], store))
    doc.add("limitations", "Limitations", _list(limitations(run, report, configs)))
    doc.add("notices", "Notices", _list(report.get("notices") or [], css="notice", render=_m))
    return _page(run, doc)


def _slices(run: dict[str, Any], store: RunStore, doc: _Doc) -> str:
    """The test split's error slices (``core.split_slices``: computed once, then cached), or a
    line saying why there are none; nothing for a run without a trained model."""
    if run["status"] != "completed" or not (store.artifacts(run["id"])["kind"] == "model").any():
        return ""
    from core.batch_eval import slices_figure
    from core.split_slices import slices_table, split_evaluation

    try:
        evaluation = split_evaluation(run["id"], "test", store)
    except Exception as exc:  # noqa: BLE001  (an optional section must not sink the report)
        return f'<p class="notice">Error slices could not be computed: {_m(exc)}</p>'
    intro = (f"<p>{_m(evaluation.summary())}. The test split cut by each column (a category, a "
             "quarter of a number's range or of the text lengths, an image's size, the true "
             "class); slices of at least 5 examples that do worse than the whole split, worst "
             "first.</p>")
    if not evaluation.slices:
        return intro + "<p>No slice of at least 5 examples does worse than the whole split.</p>"
    return intro + doc.figure(slices_figure(evaluation)) + _table(slices_table(evaluation))


def _explanations(items: Explanations) -> list[tuple[str, Any]]:
    if not items:
        return []
    if isinstance(items, Mapping):
        return [(str(k), v) for k, v in items.items()]
    out = []
    for item in items:
        out.append((str(item[0]), item[1]) if isinstance(item, tuple) else ("", item))
    return out


def _summary(run: dict[str, Any], report: dict[str, Any], system: dict[str, float]) -> str:
    cfg = run["config"]
    rows = split_rows(report)
    items = [
        ("Run", f"{_m(run.get('name') or run['id'])} <code>{_esc(run['id'])}</code>"),
        ("Task", _esc(run["task"])), ("Status", _esc(run.get("status"))),
        ("Model", _esc(show_source(cfg.get("model", {}).get("name") or "—"))),
        ("Data source", _esc(show_source(cfg.get("data", {}).get("source")))),
        ("Data fingerprint", f"<code>{_esc(run.get('dataset_fingerprint') or '—')}</code>"),
        ("Rows per split", _esc(", ".join(f"{s} {rows[s]:,}" for s in ("train", "val", "test") if s in rows)
                                or "not recorded")),
        ("Device", _esc(run.get("device") or "—")), ("Precision", _esc(run.get("precision") or "—")),
        ("Started / finished", _esc(f"{str(run.get('started_at'))[:19]} / "
                                    f"{str(run.get('finished_at'))[:19]}")),
    ]
    if report.get("target"):
        items.insert(4, ("Target", _m(report["target"])))
    labels = labels_of(report)
    if labels:
        items.insert(4, ("Labels", _m(", ".join(labels[:30]))))
    if system.get("train_seconds"):
        items.append(("Training time", _esc(f"{system['train_seconds']:.1f} s, "
                                            f"{system.get('samples_per_s', 0):,.0f} samples/s")))
    if run.get("tags"):
        items.append(("Tags", _m(", ".join(map(str, run["tags"])))))
    if run.get("notes"):
        items.append(("Notes", _m(run["notes"])))
    return "<dl>" + "".join(f"<dt>{_esc(k)}</dt><dd>{v}</dd>" for k, v in items) + "</dl>"


def _metrics(run: dict[str, Any], report: dict[str, Any]) -> str:
    table = metric_table(run.get("metrics") or {}, baseline_models(report))
    if not table:
        return "<p>No final metrics were recorded (the run did not complete).</p>"
    splits = [s for s in ("test", "val", "train") if any(s in v for v in table.values())]
    frame = pd.DataFrame([{"metric": k, **{s: v.get(s, np.nan) for s in splits}} for k, v in table.items()])
    out = _table(frame)
    test = (report.get("baselines") or {}).get("test")
    if test:
        base = pd.DataFrame([{"model": m, **scores} for m, scores in test.items()])
        out += "<p>Baselines on the test split, same features:</p>" + _table(base)
    per_class = report.get("per_class") or []
    if per_class:
        out += f"<p>Per class ({_esc(report.get('split', 'test'))} split):</p>"
        out += _table(pd.DataFrame(per_class))
    return out


def _examples(report: dict[str, Any]) -> str:
    out = ""
    texts = report.get("worst_val_examples") or []
    if texts:
        frame = pd.DataFrame([{"text": mask_message(r.get("text", "")), "true": r.get("true"),
                               "predicted": r.get("predicted"), "confidence": r.get("confidence")}
                              for r in texts])
        out += "<p>Validation texts the model got wrong with the most confidence (masked):</p>"
        out += _table(frame)
    images = report.get("worst_val_images") or []
    if images:
        cells = []
        for r in images:
            thumb = str(r.get("thumbnail") or "")
            img = f'<img alt="" src="{_esc(thumb)}">' if _DATA_URI.match(thumb) else ""
            caption = (f"{_m(r.get('name', ''))}<br>true {_m(r.get('true'))}, "
                       f"predicted {_m(r.get('predicted'))} ({fmt(r.get('confidence'))})")
            cells.append(f"<figure>{img}<figcaption>{caption}</figcaption></figure>")
        out += "<p>Validation images the model got wrong with the most confidence:</p>"
        out += f'<div class="gallery">{"".join(cells)}</div>'
    return out


def _list(items: Iterable[Any], css: str = "", render: Any = None) -> str:
    cls = f' class="{css}"' if css else ""
    lines = [f"<li{cls}>{(render or _md)(x)}</li>" for x in items]
    return f"<ul>{''.join(lines)}</ul>" if lines else ""


def _page(run: dict[str, Any], doc: _Doc) -> str:
    from plotly.offline import get_plotlyjs

    title = mask_message(run.get("name") or run["id"])
    script = f'<script type="text/javascript">{get_plotlyjs()}</script>' if doc.figures else ""
    nav = "".join(f'<a href="#{a}">{_esc(t)}</a>' for a, t, _ in doc.sections)
    body = "".join(f'<section id="{a}"><h2>{_esc(t)}</h2>{b}</section>' for a, t, b in doc.sections)
    when = datetime.now().strftime("%Y-%m-%d %H:%M")
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>Loupe report: {_esc(title)}</title><style>{CSS}</style>{script}</head><body>"
        f'<header><div class="wrap"><h1>{_esc(title)}</h1><p class="sub">Loupe run '
        f'<code>{_esc(run["id"])}</code> · {_esc(run["task"])} · {_esc(run.get("status"))}</p>'
        f"<nav>{nav}</nav></div></header><main>{body}</main>"
        f'<footer class="wrap">Generated by Loupe on {when}. Personal data in texts, tables and figures '
        "is masked. This file is self-contained: it loads nothing from the network.</footer>"
        "</body></html>\n"
    )


def write_html_report(run_id: str, out_path: str | Path, store: RunStore | None = None,
                      explanations: Explanations = None, force: bool = False,
                      comparisons: Sequence[str] | None = None) -> Path:
    """Write the report atomically to ``out_path`` (an existing file only with ``force``)."""
    out = check_output(out_path, (".html", ".htm"), force=force, what="HTML report", flag="--report")
    return atomic_write(out, build_html_report(run_id, store, explanations, comparisons).encode())
