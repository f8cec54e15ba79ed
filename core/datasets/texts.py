"""Labelled texts: read, validate, split, and batch them for training.

Why this shape: users bring whatever they have — a CSV export, a TSV, JSON lines, Parquet, or two
plain files of positive and negative lines — and each mistake in it (wrong encoding, a missing
label, an empty text, a typo in a column name) must come back as one ``LoupeError`` naming the
file, the rows or column, and the fix, before anything reaches the run store.

Tokenization and batching (dynamic padding, length-grouped batches) live in
``core.models.text_models`` next to the tokenizer they depend on.
"""

from __future__ import annotations

import csv
import hashlib
import importlib.util
import io
import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from core.config import DataConfig
from core.errors import LoupeError, suggest

SAMPLES = {"reviews": "3,000 generated product reviews labelled positive/negative (balanced)"}
TABLE_SUFFIXES = {".csv": ",", ".tsv": "\t", ".tab": "\t", ".jsonl": None, ".ndjson": None,
                  ".json": None, ".parquet": None, ".pq": None}
TEXT_NAMES = ("text", "review", "sentence", "content", "comment", "body", "message", "document",
              "tweet", "review_text", "utterance")
LABEL_NAMES = ("label", "labels", "sentiment", "class", "target", "category", "polarity", "y")
_SHOW = 10  # rows listed in an error message before "and N more"


@dataclass
class TextTable:
    """Validated texts with integer labels, before tokenization and splitting."""

    texts: list[str]
    labels: np.ndarray  # int64 class ids into label_names
    label_names: list[str]
    source: str
    fingerprint: str
    text_column: str | None = None
    label_column: str | None = None
    notices: list[str] = field(default_factory=list)
    rows: np.ndarray | None = None  # source row of each text (0-based), kept through sampling

    def __post_init__(self) -> None:
        if self.rows is None:
            self.rows = np.arange(len(self.texts))


# --- reading -------------------------------------------------------------------------------
def _read_bytes(path: Path) -> bytes:
    if not path.exists():
        raise LoupeError(f"The data file {path} does not exist.",
                         "check the path (relative paths start at the current folder).")
    if path.is_dir():
        raise LoupeError(f"{path} is a folder, not a data file.",
                         "point data.source at a CSV, TSV, JSONL, Parquet or text file.")
    raw = path.read_bytes()
    if not raw.strip():
        raise LoupeError(f"The data file {path} is empty.",
                         "choose a file with a header row and at least a few labelled texts.")
    return raw


def decode_text(raw: bytes, path: Path, encoding: str | None = None) -> str:
    """UTF-8 (BOM honoured) unless ``encoding`` is given; else a LoupeError naming the bad line."""
    if encoding:
        try:
            return raw.decode(encoding)
        except (UnicodeDecodeError, LookupError) as exc:
            raise LoupeError(f"{path} cannot be read as {encoding}: {exc}.",
                             "give the file's real encoding (data.encoding), or save it as UTF-8.",
                             ) from None
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return raw.decode("utf-16")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise LoupeError(
            f"{path} is not UTF-8 text: byte 0x{raw[exc.start]:02x} on line {line} cannot be "
            "decoded.",
            "re-save the file as UTF-8 (spreadsheets: 'CSV UTF-8'), or set data.encoding to its "
            "encoding (e.g. latin-1).",
        ) from None


def _read_jsonl(text: str, path: Path) -> tuple[pd.DataFrame, list[int]]:
    records, lines = [], []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise LoupeError(f"{path} line {number} is not valid JSON ({exc.msg}).",
                             "write one JSON object per line, e.g. "
                             '{"text": "...", "label": "positive"}.') from None
        if not isinstance(record, dict):
            raise LoupeError(f"{path} line {number} is not a JSON object.",
                             'write one object per line, e.g. {"text": "...", "label": 1}.')
        records.append(record)
        lines.append(number)
    return pd.DataFrame.from_records(records), lines


def read_table(path: Path, encoding: str | None = None
               ) -> tuple[pd.DataFrame, list[int] | None, bytes]:
    """A frame of a CSV/TSV/JSON(L)/Parquet file, its data rows' file line numbers, its bytes."""
    suffix = path.suffix.lower()
    if suffix not in TABLE_SUFFIXES:
        raise LoupeError(f"Loupe cannot read '{path.name}' as a table of texts.",
                         "use .csv, .tsv, .jsonl or .parquet — or a .txt of positive lines with "
                         "data.negative_source set to a .txt of negative lines.")
    raw = _read_bytes(path)
    if suffix in (".parquet", ".pq"):
        try:
            return pd.read_parquet(io.BytesIO(raw)), None, raw
        except Exception as exc:  # pyarrow raises several types for corrupt files
            raise LoupeError(f"{path} is not a readable Parquet file ({exc}).",
                             "re-export it, e.g. DataFrame.to_parquet(path).") from exc
    text = decode_text(raw, path, encoding)
    if suffix in (".jsonl", ".ndjson"):
        frame, lines = _read_jsonl(text, path)
        return frame, lines, raw
    if suffix == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise LoupeError(f"{path} is not valid JSON (line {exc.lineno}: {exc.msg}).",
                             "fix the JSON, or write one object per line as .jsonl.") from None
        if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
            raise LoupeError(f"{path} must hold a list of objects.",
                             'write [{"text": "...", "label": "positive"}, ...] or use .jsonl.')
        return pd.DataFrame.from_records(data), None, raw
    _refuse_duplicate_header(text, path, TABLE_SUFFIXES[suffix])
    try:
        frame = pd.read_csv(io.StringIO(text), sep=TABLE_SUFFIXES[suffix], dtype=str,
                            keep_default_na=False, skip_blank_lines=True)
    except pd.errors.ParserError as exc:
        raise LoupeError(f"{path} is not a well-formed {suffix[1:].upper()} file: {exc}",
                         "quote fields that contain the separator or line breaks.") from None
    except pd.errors.EmptyDataError:
        raise LoupeError(f"The data file {path} is empty.", "add a header row and rows.") from None
    return frame, None, raw


def _refuse_duplicate_header(text: str, path: Path, sep: str) -> None:
    """pandas would silently rename a second 'text' column to 'text.1'; refuse instead."""
    first_line = text.lstrip("\ufeff").split("\n", 1)[0]
    header = [h.strip() for h in next(csv.reader([first_line], delimiter=sep), [])]
    seen: set[str] = set()
    for name in header:
        if name in seen and name:
            raise LoupeError(f"{path}: the column name '{name}' appears more than once in the header.",
                             "rename the duplicated columns so every name is unique.")
        seen.add(name)


def read_lines(path: Path, encoding: str | None = None) -> tuple[list[str], bytes]:
    """Non-blank lines of a plain text file (one text per line)."""
    raw = _read_bytes(path)
    lines = [line.strip() for line in decode_text(raw, path, encoding).splitlines()]
    return [line for line in lines if line], raw


def load_sample_frame(name: str) -> pd.DataFrame:
    """A built-in sample by name (generated by a script in data/; nothing is downloaded)."""
    if name not in SAMPLES:
        raise LoupeError(f"There is no built-in text sample '{name}'.", suggest(name, SAMPLES))
    script = Path(__file__).resolve().parents[2] / "data" / "make_reviews.py"
    if not script.is_file():
        raise LoupeError(f"The sample generator {script} is missing.",
                         "run Loupe from a full checkout, or point data.source at your own file.")
    spec = importlib.util.spec_from_file_location("loupe_data_make_reviews", script)
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module.load_reviews()


# --- columns and labels --------------------------------------------------------------------
_NUMBER = re.compile(r"\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*")


def _is_text_like(series: pd.Series) -> bool:
    """Mostly strings, and not mostly numbers read as strings (CSV cells are all strings)."""
    values = series.dropna()
    values = values[values.map(lambda v: not isinstance(v, str) or bool(v.strip()))]
    if not len(values) or values.map(lambda v: isinstance(v, str)).mean() < 0.9:
        return False
    return values.map(lambda v: isinstance(v, str) and bool(_NUMBER.fullmatch(v))).mean() < 0.9


def _missing(value: Any) -> bool:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return True
    return isinstance(value, str) and not value.strip()


def _by_name(columns: Sequence[str], names: Sequence[str]) -> str | None:
    lowered = {str(c).strip().lower(): c for c in columns}
    return next((lowered[n] for n in names if n in lowered), None)


def _check_named(frame: pd.DataFrame, column: str, path: str, setting: str) -> str:
    if column not in frame.columns:
        raise LoupeError(f"{path} has no column '{column}' (data.{setting}).",
                         suggest(column, [str(c) for c in frame.columns]))
    return column


def pick_text_column(frame: pd.DataFrame, path: str, wanted: str | None,
                     exclude: Sequence[str] = ()) -> str:
    """The named text column, else one called text/review/..., else the longest string column."""
    if wanted:
        return _check_named(frame, wanted, path, "text_column")
    candidates = [c for c in frame.columns if c not in exclude and _is_text_like(frame[c])]
    named = _by_name(candidates, TEXT_NAMES)
    if named is not None:
        return named
    if not candidates:
        raise LoupeError(f"{path} has no text column (columns: {', '.join(map(str, frame.columns))}).",
                         "add a column of texts, or set data.text_column.")
    lengths = {c: frame[c].dropna().astype(str).str.len().mean() for c in candidates}
    ranked = sorted(candidates, key=lambda c: -lengths[c])
    if len(ranked) > 1 and lengths[ranked[0]] < 1.5 * lengths[ranked[1]]:
        raise LoupeError(f"{path}: cannot tell which column holds the text "
                         f"({', '.join(repr(str(c)) for c in ranked[:4])} look alike).",
                         f"set data.text_column, e.g. to '{ranked[0]}'.")
    return ranked[0]


def pick_label_column(frame: pd.DataFrame, path: str, wanted: str | None, text_col: str) -> str:
    """The named label column, else one called label/sentiment/..., else the one low-cardinality
    column left; ambiguous or absent → LoupeError asking for data.label_column."""
    if wanted:
        return _check_named(frame, wanted, path, "label_column")
    others = [c for c in frame.columns if c != text_col]
    named = _by_name(others, LABEL_NAMES)
    if named is not None:
        return named
    limit = max(2, min(50, len(frame) // 5))
    low = [c for c in others if 2 <= frame[c].map(_label_key).dropna().nunique() <= limit]
    if len(low) == 1:
        return low[0]
    if not low:
        raise LoupeError(f"{path} has no label column next to the text column '{text_col}'.",
                         "add a column with the class of each text, or set data.label_column.")
    raise LoupeError(f"{path}: several columns could be the label "
                     f"({', '.join(repr(str(c)) for c in low[:5])}).",
                     f"set data.label_column, e.g. to '{low[0]}'.")


def _label_key(value: Any) -> Any:
    """Canonical label: int for whole numbers (1, 1.0, "1"), stripped str otherwise, None if missing."""
    if _missing(value):
        return None
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        if not np.isfinite(value):  # JSON Infinity / -Infinity: not a class, treated as missing
            return None
        if float(value).is_integer():
            return int(value)
    text = str(value).strip()
    return int(text) if re.fullmatch(r"[+-]?\d+", text) else text


def _where(rows: Sequence[int], lines: list[int] | None, header: bool) -> str:
    """'rows 3, 9 (lines 4, 10)' — data rows 1-based, plus file lines where we know them."""
    shown = list(rows[:_SHOW])
    more = f" and {len(rows) - _SHOW} more" if len(rows) > _SHOW else ""
    label = "row" if len(rows) == 1 else "rows"
    text = f"{label} {', '.join(str(r + 1) for r in shown)}{more}"
    if lines is not None:
        text += f" (file lines {', '.join(str(lines[r]) for r in shown)})"
    elif header:
        text += f" (file lines {', '.join(str(r + 2) for r in shown)}, after the header)"
    return text


def encode_labels(keys: Sequence[Any]) -> tuple[np.ndarray, list[str]]:
    """Class ids into a stable sorted label list: numbers numerically, strings alphabetically."""
    uniques = set(keys)
    if all(isinstance(k, int) for k in uniques):
        ordered = sorted(uniques)
    else:
        ordered = sorted(uniques, key=str)
    names = [str(k) for k in ordered]
    index = {k: i for i, k in enumerate(ordered)}
    return np.array([index[k] for k in keys], dtype=np.int64), names


def table_from_frame(frame: pd.DataFrame, cfg: DataConfig, path: str, fingerprint: str,
                     lines: list[int] | None = None, header: bool = False) -> TextTable:
    """Pick columns, check every row has a text and a label, and encode the labels."""
    if frame.empty:
        raise LoupeError(f"{path} has a header but no rows.", "add labelled texts below the header.")
    frame = frame.reset_index(drop=True)
    exclude = [cfg.label_column] if cfg.label_column else []
    text_col = pick_text_column(frame, path, cfg.text_column, exclude)
    label_col = pick_label_column(frame, path, cfg.label_column, text_col)
    if text_col == label_col:
        raise LoupeError(f"{path}: text and label cannot both be column '{text_col}'.",
                         "set data.text_column and data.label_column to two different columns.")
    raw_texts = frame[text_col].tolist()
    if not _is_text_like(frame[text_col]) and any(not _missing(v) for v in raw_texts):
        raise LoupeError(f"{path}: column '{text_col}' holds {frame[text_col].dtype} values, "
                         "not text.", "set data.text_column to the column with the texts.")
    empty = [i for i, v in enumerate(raw_texts) if _missing(v)]
    if empty:
        raise LoupeError(f"{path}: column '{text_col}' is empty in {_where(empty, lines, header)}.",
                         "fill in or delete those rows.")
    keys = [_label_key(v) for v in frame[label_col].tolist()]
    absent = [i for i, k in enumerate(keys) if k is None]
    if absent:
        raise LoupeError(f"{path}: label column '{label_col}' is missing in "
                         f"{_where(absent, lines, header)}.",
                         "give every row a label, or delete the unlabelled rows.")
    labels, names = encode_labels(keys)
    return TextTable(texts=[str(t) for t in raw_texts], labels=labels, label_names=names,
                     source=path, fingerprint=fingerprint, text_column=str(text_col),
                     label_column=str(label_col))


def _two_file_table(cfg: DataConfig) -> TextTable:
    pos_path, neg_path = Path(cfg.source).expanduser(), Path(cfg.negative_source or "").expanduser()
    positives, pos_raw = read_lines(pos_path, getattr(cfg, "encoding", None))
    negatives, neg_raw = read_lines(neg_path, getattr(cfg, "encoding", None))
    for path, lines in ((pos_path, positives), (neg_path, negatives)):
        if not lines:
            raise LoupeError(f"{path} has no non-blank lines.", "write one text per line.")
    digest = hashlib.sha256(pos_raw + b"\0loupe-negative\0" + neg_raw).hexdigest()
    texts = positives + negatives
    labels = np.array([1] * len(positives) + [0] * len(negatives), dtype=np.int64)
    return TextTable(texts=texts, labels=labels, label_names=["negative", "positive"],
                     source=f"{pos_path} (positive) + {neg_path} (negative)", fingerprint=digest)


def read_text_table(cfg: DataConfig) -> TextTable:
    """Load and validate ``cfg.source`` (a table, two line files, or ``sample:NAME``)."""
    source = (cfg.source or "").strip()
    if not source:
        raise LoupeError("No data source given.",
                         "set data.source to a CSV/TSV/JSONL/Parquet file or 'sample:reviews'.")
    if source.startswith("sample:"):
        frame = load_sample_frame(source.split(":", 1)[1])
        digest = hashlib.sha256(frame.to_csv(index=False).encode()).hexdigest()
        table = table_from_frame(frame, cfg, source, digest)
    elif cfg.negative_source:
        table = _two_file_table(cfg)
    elif Path(source).suffix.lower() == ".txt":
        raise LoupeError(f"{source} is a plain text file but data.negative_source is not set.",
                         "for the two-file layout set data.source to the positive lines and "
                         "data.negative_source to the negative lines; or use a CSV with text and "
                         "label columns.")
    else:
        path = Path(source).expanduser()
        frame, lines, raw = read_table(path, getattr(cfg, "encoding", None))
        header = path.suffix.lower() in (".csv", ".tsv", ".tab")
        table = table_from_frame(frame, cfg, str(path), hashlib.sha256(raw).hexdigest(),
                                 lines, header)
    if len(table.label_names) < 2:
        raise LoupeError(f"{table.source}: every row has the label '{table.label_names[0]}'; a "
                         "classifier needs at least two classes.",
                         "add examples of the other class(es), or check data.label_column.")
    return _maybe_sample(table, cfg)


def _maybe_sample(table: TextTable, cfg: DataConfig) -> TextTable:
    if cfg.max_rows is None or len(table.texts) <= cfg.max_rows:
        return table
    rng = np.random.default_rng(cfg.seed)
    keep = np.sort(rng.choice(len(table.texts), size=cfg.max_rows, replace=False))
    table.notices.append(f"Sampled {cfg.max_rows:,} of {len(table.texts):,} rows (data.max_rows).")
    table.texts = [table.texts[i] for i in keep]
    table.labels = table.labels[keep]
    table.rows = table.rows[keep]
    return table


# --- splitting -----------------------------------------------------------------------------
def stratified_split(labels: np.ndarray, names: Sequence[str], val_fraction: float,
                     test_fraction: float, seed: int, source: str
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Train/val/test indices with every class in every split (in its own proportion)."""
    if not (0 <= val_fraction < 1 and 0 <= test_fraction < 1 and val_fraction + test_fraction < 1):
        raise LoupeError(f"val_fraction {val_fraction} + test_fraction {test_fraction} must be "
                         "fractions that leave rows to train on.", "use e.g. 0.15 and 0.15.")
    rng = np.random.default_rng(seed)
    parts: list[list[np.ndarray]] = [[], [], []]
    for cls, name in enumerate(names):
        idx = rng.permutation(np.flatnonzero(labels == cls))
        n_val = max(1, round(len(idx) * val_fraction)) if val_fraction > 0 else 0
        n_test = max(1, round(len(idx) * test_fraction)) if test_fraction > 0 else 0
        if len(idx) - n_val - n_test < 1:
            need = 1 + (val_fraction > 0) + (test_fraction > 0)
            raise LoupeError(f"{source}: class '{name}' has {len(idx)} row(s); the train/val/test "
                             f"split needs at least {need} of every class.",
                             "add rows of that class, lower val/test fractions, or drop the class.")
        parts[0].append(idx[n_val + n_test:])
        parts[1].append(idx[:n_val])
        parts[2].append(idx[n_val:n_val + n_test])
    return tuple(np.sort(np.concatenate(p)).astype(np.int64) for p in parts)  # type: ignore[return-value]
