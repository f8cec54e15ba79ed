"""Text data: every supported layout loads, and every bad input fails with an actionable message.

These run the real tokenizer of the packaged MiniLM (fast, local) but never a model forward pass.
"""

from __future__ import annotations

import json
import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # before transformers is imported: never reach a hub

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from core.config import RunConfig
from core.errors import LoupeError
from core.tasks.text import TextTask

torch.set_num_threads(1)


@pytest.fixture(autouse=True)
def _home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOUPE_HOME", str(tmp_path / "home"))


@pytest.fixture(scope="module")
def task() -> TextTask:
    return TextTask()


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    from core.datasets.texts import load_sample_frame

    return load_sample_frame("reviews").head(60).reset_index(drop=True)


def cfg(source: str | Path, **data: object) -> RunConfig:
    return RunConfig.from_dict({"task": "text", "data": {"source": str(source), **data},
                                "model": {"max_length": 64}})


def load(task: TextTask, source: str | Path, **data: object):
    return task.load_data(cfg(source, **data))


def error(task: TextTask, source: str | Path, **data: object) -> str:
    with pytest.raises(LoupeError) as info:
        load(task, source, **data)
    return str(info.value)


# --- layouts ---------------------------------------------------------------------------------
@pytest.mark.parametrize("suffix", [".csv", ".tsv", ".jsonl", ".parquet", ".json"])
def test_table_formats_load_the_same_rows(task, frame, tmp_path, suffix):
    path = tmp_path / f"reviews{suffix}"
    if suffix == ".csv":
        frame.to_csv(path, index=False)
    elif suffix == ".tsv":
        frame.to_csv(path, sep="\t", index=False)
    elif suffix == ".jsonl":
        frame.to_json(path, orient="records", lines=True)
    elif suffix == ".json":
        frame.to_json(path, orient="records")
    else:
        frame.to_parquet(path)
    data = load(task, path)
    assert data.meta["labels"] == ["negative", "positive"]
    assert data.meta["text_column"] == "text" and data.meta["label_column"] == "label"
    assert sum(data.meta["rows"].values()) == len(frame)
    texts = set(data.train.texts) | set(data.val.texts) | set(data.test.texts)
    assert texts == set(frame["text"])
    assert len(data.fingerprint) == 64


def test_sample_source_is_deterministic(task):
    a, b = load(task, "sample:reviews"), load(task, "sample:reviews")
    assert a.fingerprint == b.fingerprint
    assert sum(a.meta["rows"].values()) == 3000
    assert a.train.texts == b.train.texts
    counts = a.meta["label_counts"]
    assert all(abs(c[0] - c[1]) <= 1 for c in counts.values())  # stratified and balanced


def test_two_file_layout(task, frame, tmp_path):
    pos, neg = tmp_path / "pos.txt", tmp_path / "neg.txt"
    pos.write_text("\n".join(frame[frame.label == "positive"].text) + "\n\n")
    neg.write_text("\n".join(frame[frame.label == "negative"].text))
    data = load(task, pos, negative_source=str(neg))
    assert data.meta["labels"] == ["negative", "positive"]
    assert sum(data.meta["rows"].values()) == len(frame)
    truth = dict(zip(frame.text, frame.label, strict=True))
    for split in (data.train, data.val, data.test):
        for text, label in zip(split.texts, split.labels, strict=True):
            assert data.meta["labels"][label] == truth[text]


def test_int_labels_sort_numerically(task, frame, tmp_path):
    path = tmp_path / "ints.csv"
    labels = np.resize([2, 10, 1], len(frame))  # "10" must sort after "2"
    frame.assign(label=labels).to_csv(path, index=False)
    data = load(task, path)
    assert data.meta["labels"] == ["1", "2", "10"]
    jsonl = tmp_path / "ints.jsonl"
    frame.assign(label=labels).to_json(jsonl, orient="records", lines=True)
    assert load(task, jsonl).meta["labels"] == ["1", "2", "10"]


def test_autodetect_without_conventional_names(task, frame, tmp_path):
    path = tmp_path / "odd.csv"
    frame.rename(columns={"text": "what_they_wrote", "label": "verdict"}).assign(
        review_id=range(len(frame)), title="Review").to_csv(path, index=False)
    data = load(task, path)
    assert data.meta["text_column"] == "what_they_wrote"
    assert data.meta["label_column"] == "verdict"


def test_override_columns(task, frame, tmp_path):
    path = tmp_path / "override.csv"
    frame.to_csv(path, index=False)
    data = load(task, path, label_column="product", val_fraction=0.0, test_fraction=0.0)
    assert data.meta["label_column"] == "product"
    assert len(data.meta["labels"]) == frame["product"].nunique()


def test_ambiguous_label_asks_for_the_setting(task, frame, tmp_path):
    path = tmp_path / "ambiguous.csv"
    frame.rename(columns={"label": "mood"}).assign(
        channel=np.resize(["web", "app", "store"], len(frame))).to_csv(path, index=False)
    message = error(task, path)
    assert "label_column" in message and "mood" in message and "channel" in message


def test_long_texts_are_truncated_with_a_notice(task, frame, tmp_path):
    path = tmp_path / "long.csv"
    big = frame.copy()
    big.loc[0, "text"] = "great value " * 10_000 + "x" * 40_000  # ~160k characters
    big.to_csv(path, index=False)
    data = load(task, path)
    assert max(max(d.lengths) for d in (data.train, data.val, data.test)) <= 64
    assert sum(data.meta["truncated"].values()) >= 1
    assert any("truncated" in n for n in data.notices)


# --- bad inputs ------------------------------------------------------------------------------
def test_missing_file(task, tmp_path):
    assert "does not exist" in error(task, tmp_path / "nope.csv")


def test_empty_file(task, tmp_path):
    path = tmp_path / "empty.csv"
    path.write_text("  \n")
    assert "empty" in error(task, path)


def test_header_only(task, tmp_path):
    path = tmp_path / "header.csv"
    path.write_text("text,label\n")
    assert "no rows" in error(task, path)


def test_no_text_column(task, tmp_path):
    path = tmp_path / "numbers.csv"
    pd.DataFrame({"a": range(30), "label": [0, 1] * 15}).to_csv(path, index=False)
    message = error(task, path)
    assert "no text column" in message and "text_column" in message


def test_one_class_only(task, frame, tmp_path):
    path = tmp_path / "one.csv"
    frame.assign(label="positive").to_csv(path, index=False)
    message = error(task, path)
    assert "'positive'" in message and "two classes" in message


def test_empty_texts_name_rows(task, frame, tmp_path):
    path = tmp_path / "blank.csv"
    bad = frame.copy()
    bad.loc[[3, 7], "text"] = ["", "   "]
    bad.to_csv(path, index=False)
    message = error(task, path)
    assert "rows 4, 8" in message and "lines 5, 9" in message and "'text'" in message


def test_missing_labels_name_rows(task, frame, tmp_path):
    path = tmp_path / "unlabelled.jsonl"
    records = frame.to_dict("records")
    records[5]["label"] = None
    del records[9]["label"]
    path.write_text("\n".join(json.dumps(r) for r in records))
    message = error(task, path)
    assert "missing" in message and "rows 6, 10" in message and "lines 6, 10" in message


def test_undecodable_bytes_name_the_line(task, frame, tmp_path):
    path = tmp_path / "latin1.csv"
    body = frame.to_csv(index=False).encode()
    lines = body.split(b"\n")
    lines[4] = lines[4][:10] + b"\xe9" + lines[4][10:]  # a latin-1 'é' on line 5
    path.write_bytes(b"\n".join(lines))
    message = error(task, path)
    assert "UTF-8" in message and "line 5" in message
    assert sum(load(task, path, encoding="latin-1").meta["rows"].values()) == len(frame)


def test_too_few_rows_for_the_split(task, tmp_path):
    path = tmp_path / "tiny.csv"
    pd.DataFrame({"text": ["good stuff", "bad stuff", "great", "awful"],
                  "label": ["pos", "neg", "pos", "neg"]}).to_csv(path, index=False)
    message = error(task, path)
    assert "split needs at least 3" in message and "class" in message


def test_named_text_column_missing_suggests(task, frame, tmp_path):
    path = tmp_path / "typo.csv"
    frame.to_csv(path, index=False)
    message = error(task, path, text_column="txt")
    assert "no column 'txt'" in message and "'text'" in message


def test_plain_text_without_negative_file(task, tmp_path):
    path = tmp_path / "lines.txt"
    path.write_text("good\nbad\n")
    assert "negative_source" in error(task, path)


def test_unknown_sample_and_suffix(task, tmp_path):
    assert "reviews" in error(task, "sample:reviewz")
    path = tmp_path / "data.xlsx"
    path.write_bytes(b"PK")
    assert ".csv" in error(task, path)


def test_malformed_jsonl_names_the_line(task, tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"text": "ok", "label": 1}\n{"text": "oops", "label": \n')
    assert "line 2" in error(task, path)


def test_max_length_beyond_the_model(task):
    with pytest.raises(LoupeError, match="max_length"):
        task.load_data(RunConfig.from_dict({"task": "text", "data": {"source": "sample:reviews"},
                                            "model": {"max_length": 4096}}))
