"""Argument definitions for each `loupe` subcommand (kept apart from what the commands do)."""

from __future__ import annotations

import argparse
from typing import Any

from core.cli_doctor import add_doctor_parser
from core.cli_explain import add_explain_parser
from core.cli_export import add_export_parser


def _json_flag(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="print machine-readable JSON")


def add_all(sub: Any) -> None:
    t = sub.add_parser("train", help="train a model (tabular, text or image)")
    t.add_argument("kind", help="task kind: tabular, text or image")
    t.add_argument("--data", help="file, folder or zip; or sample:NAME (see `loupe samples`)")
    t.add_argument("--target", help="tabular: the numeric column to predict")
    t.add_argument("--text-column", help="text: column holding the texts (auto-detected)")
    t.add_argument("--label-column", help="text: column holding the labels (auto-detected)")
    t.add_argument("--negative-data", help="text: file of negative lines (with --data positives)")
    t.add_argument("--encoding", help="text encoding of the file when it is not UTF-8")
    t.add_argument("--max-rows", type=int, help="sample at most this many rows")
    t.add_argument("--model", help="model name, Hugging Face id or local folder")
    t.add_argument("--hidden-sizes", help="tabular MLP layer widths, e.g. 128,64")
    t.add_argument("--max-length", type=int, help="text: tokens per text")
    t.add_argument("--image-size", type=int, help="image: input side in pixels")
    t.add_argument("--freeze-backbone", action="store_true", default=None,
                   help="train only the new head of a pretrained model")
    t.add_argument("--epochs", type=int)
    t.add_argument("--lr", type=float, help="learning rate")
    t.add_argument("--batch-size", type=int)
    t.add_argument("--grad-accum", type=int, help="gradient accumulation steps")
    t.add_argument("--patience", type=int, help="early-stopping patience in epochs (0: off)")
    t.add_argument("--max-steps", type=int, help="stop after this many optimizer steps")
    t.add_argument("--num-workers", type=int, help="DataLoader worker processes")
    t.add_argument("--device", help="auto, cpu, cuda or cuda:N")
    t.add_argument("--precision", help="auto, bf16, fp16 or fp32")
    t.add_argument("--seed", type=int)
    t.add_argument("--name", help="a name for the run")
    t.add_argument("--tag", action="append", default=[], help="tag the run (repeatable)")
    t.add_argument("--config", help="a RunConfig JSON file (flags override it)")
    t.add_argument("--run-id", help=argparse.SUPPRESS)  # a queued run created by core.jobs
    t.add_argument("--wait-turn", action="store_true", help=argparse.SUPPRESS)
    t.add_argument("--quiet", action="store_true", help="no progress bar; one line per epoch")
    _json_flag(t)

    r = sub.add_parser("resume", help="continue an interrupted run from its last checkpoint")
    r.add_argument("run_id")
    r.add_argument("--quiet", action="store_true")
    _json_flag(r)

    p = sub.add_parser("predict", help="predict with a trained run")
    p.add_argument("run_id")
    p.add_argument("--data", help="a file (or image folder/zip) of inputs")
    p.add_argument("--text", help="text: one text to classify")
    p.add_argument("--out", help="write predictions here (.csv, .tsv, .jsonl or .parquet); CSV cells "
                   "that start with = + - @ are prefixed with ' (formula injection)")
    p.add_argument("--force", action="store_true", help="replace an existing --out file")
    p.add_argument("--device", default="auto")
    _json_flag(p)

    ls = sub.add_parser("runs", help="list runs")
    ls.add_argument("--task")
    ls.add_argument("--status")
    ls.add_argument("--tag")
    ls.add_argument("--search", help="text in the name, notes or id")
    ls.add_argument("--limit", type=int, default=20)
    _json_flag(ls)

    s = sub.add_parser("show", help="show one run: config, metrics, artifacts")
    s.add_argument("run_id")
    _json_flag(s)

    c = sub.add_parser("cancel", help="cancel a queued or running run")
    c.add_argument("run_id")

    d = sub.add_parser("delete", help="delete a run with its metrics and artifacts")
    d.add_argument("run_id", help="the run's id (or a unique prefix of 4+ characters); a queued "
                                   "or running run must be cancelled first")

    tg = sub.add_parser("tag", help="set a run's tags")
    tg.add_argument("run_id")
    tg.add_argument("tags", nargs="*")

    sm = sub.add_parser("samples", help="list the built-in sample datasets")
    _json_flag(sm)

    i = sub.add_parser("inspect", help="find personal data, profile a table, measure k-anonymity")
    i.add_argument("file", help="CSV, TSV, Parquet or JSONL file")
    i.add_argument("--k", type=int, default=5, help="k for k-anonymity and small-count suppression")
    i.add_argument("--quasi", action="append", help="quasi-identifier column (repeatable; default: detected)")
    i.add_argument("--sample-rows", type=int, default=2000, help="rows scanned per column (0 = all)")
    _json_flag(i)

    sv = sub.add_parser("serve", help="start the dashboard")
    sv.add_argument("--port", type=int, default=8501)
    sv.add_argument("--address", default="127.0.0.1",
                    help="interface to listen on (default: this machine only; Streamlit has no "
                         "login, so put a proxy with authentication in front before widening it)")

    add_export_parser(sub)
    add_explain_parser(sub)
    add_doctor_parser(sub)
