"""The one table reader: CSV, TSV, Parquet and JSON Lines for every path (``loupe train``, ``loupe
inspect``, ``loupe predict``, the dashboard's uploads), with errors that name the file, the line,
the encoding and the fix.

Rules every caller gets the same way:
- a size cap before anything is read (``LOUPE_MAX_TABLE_MB``, default 2,048 MB);
- UTF-8 (with or without BOM) and UTF-16 with a BOM are read; anything else needs ``encoding``
  (the error names the line of the first undecodable byte; NUL bytes mean UTF-16 without a BOM);
- the separator of a .csv/.txt is the most frequent of ``,`` ``;`` and tab in the header line
  (.tsv/.tab: tab); a duplicated column name is refused, never silently renamed to ``name.1``;
- JSON Lines are parsed line by line, so an error names the line and every row keeps its file
  line (``Table.lines``); a .json file holds a list of objects, or JSON lines;
- rows beyond ``max_rows`` are sampled (seeded, with a notice), never silently dropped.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from core.errors import LoupeError

TABLE_SUFFIXES = (".csv", ".tsv", ".tab", ".txt", ".parquet", ".pq", ".jsonl", ".ndjson", ".json")
DEFAULT_MAX_ROWS = 200_000
DEFAULT_MAX_MB = 2048  # LOUPE_MAX_TABLE_MB overrides
FIX_FORMAT = "save it as CSV, TSV, Parquet or JSON Lines (.csv, .tsv, .parquet, .jsonl)."
FIX_ENCODING = ("save the file as UTF-8 (e.g. 'Save as CSV UTF-8' in a spreadsheet), or give its "
                "encoding: 'Text encoding' on the Data page, --encoding latin-1 on the command "
                "line, data.encoding in a config.")
_BOMS = {b"\xff\xfe": "utf-16", b"\xfe\xff": "utf-16", b"\xef\xbb\xbf": "utf-8-sig"}
_SEPARATORS = (",", "\t", ";")


@dataclass
class Table:
    frame: pd.DataFrame
    fingerprint: str
    notices: list[str] = field(default_factory=list)
    source_rows: int = 0
    lines: list[int] | None = None  # file line of each row, where rows are lines (JSON Lines)


def fingerprint_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def fingerprint_frame(frame: pd.DataFrame) -> str:
    """Content hash of a frame (column names, dtypes and values), stable across runs."""
    digest = hashlib.sha256("|".join(map(str, frame.columns)).encode())
    digest.update(pd.util.hash_pandas_object(frame, index=False).values.tobytes())
    return digest.hexdigest()


def read_table(
    path: str | Path, max_rows: int | None = DEFAULT_MAX_ROWS, seed: int = 0,
    encoding: str | None = None, *, strings: bool = False,
) -> Table:
    """Load a table; rows beyond ``max_rows`` are sampled (with a notice), never silently dropped.

    ``strings``: CSV/TSV cells stay text exactly as written (no number or NaN guessing), for
    callers that decide types themselves (labelled texts)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in TABLE_SUFFIXES and path.exists() and not path.is_dir():
        raise LoupeError(f"Cannot read '{path.name}': unsupported file type '{suffix or '(none)'}' "
                         "(unknown table format).", FIX_FORMAT)
    raw = read_file_bytes(path)
    if suffix in (".parquet", ".pq"):
        frame, lines = _read_parquet(path.name, raw), None
    else:
        text = decode_table_text(path.name, raw, encoding)
        if suffix in (".jsonl", ".ndjson", ".json"):
            frame, lines = _read_json(path.name, text, suffix)
        else:
            frame, lines = _read_delimited(path.name, text, "\t" if suffix in (".tsv", ".tab") else None,
                                           strings), None
    if frame.shape[1] == 0:
        raise LoupeError(f"{path.name} has no columns.", "add a header row.")
    if frame.empty:
        raise LoupeError(f"{path.name} has no rows: a header but no data rows.",
                         "add rows of data below the header.")
    table = Table(frame, fingerprint_bytes(raw), source_rows=len(frame), lines=lines)
    return sample_rows(table, max_rows, seed)


def max_table_bytes() -> int:
    """The size cap: ``LOUPE_MAX_TABLE_MB`` megabytes (default 2,048)."""
    try:
        mb = float(os.environ.get("LOUPE_MAX_TABLE_MB") or DEFAULT_MAX_MB)
    except ValueError:
        mb = DEFAULT_MAX_MB
    return int(mb * 1_000_000)


def _size(n: float) -> str:
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("KB", 1e3)):
        if n >= scale:
            return f"{n / scale:,.1f} {unit}"
    return f"{int(n):,} bytes"


def read_file_bytes(path: Path) -> bytes:
    """The bytes of a data file: missing, a folder, too large or empty is a LoupeError."""
    if not path.exists():
        raise LoupeError(f"Data file not found: {path} does not exist.",
                         "check the path (relative paths start from the folder you run Loupe in).")
    if path.is_dir():
        raise LoupeError(f"{path} is a folder, not a data file.", "pass a file: " + FIX_FORMAT)
    size, cap = path.stat().st_size, max_table_bytes()
    if size > cap:
        raise LoupeError(
            f"{path.name} is {_size(size)}; Loupe reads tables up to {_size(cap)}.",
            "cut the file to a sample of its rows (e.g. head -n 500001 in a shell), save it as "
            "Parquet (smaller), or raise the limit with the LOUPE_MAX_TABLE_MB environment variable.")
    raw = path.read_bytes()
    if not raw.strip():
        raise LoupeError(f"{path.name} is empty.", "choose a file that has a header row and data.")
    return raw


def sample_rows(table: Table, max_rows: int | None, seed: int) -> Table:
    if max_rows and len(table.frame) > max_rows:
        table.notices.append(
            f"The file has {len(table.frame):,} rows; a random sample of {max_rows:,} rows "
            f"(seed {seed}) is used. Raise data.max_rows to use more."
        )
        table.frame = table.frame.sample(n=max_rows, random_state=seed)
        if table.lines is not None:
            table.lines = [table.lines[i] for i in table.frame.index]
        table.frame = table.frame.reset_index(drop=True)
    return table


def decode_table_text(name: str, raw: bytes, encoding: str | None = None) -> str:
    """UTF-8 (a BOM honoured, UTF-16 with a BOM too) unless ``encoding`` is given."""
    if encoding:  # a byte-order mark decoded as text ("utf-8" given for a "utf-8-sig" file) goes
        try:
            return raw.decode(encoding).removeprefix("\ufeff")
        except (UnicodeDecodeError, LookupError) as exc:
            raise LoupeError(f"{name} cannot be read as {encoding}: {exc}.",
                             "pick the file's real encoding, or save it as UTF-8.") from None
    for bom, codec in _BOMS.items():
        if raw.startswith(bom):
            return raw.decode(codec)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise LoupeError(
            f"{name} is not UTF-8 text: byte 0x{raw[exc.start]:02x} on line {line} is not valid "
            "UTF-8.", FIX_ENCODING) from None
    if "\x00" in text:  # Python 3.10's csv module stops on NUL with a bare error; 3.11+ garbles
        line = text[: text.index("\x00")].count("\n") + 1
        raise LoupeError(
            f"{name} contains NUL bytes (first on line {line}): it looks like UTF-16 text without a "
            "byte-order mark, or not a text table at all.",
            FIX_ENCODING.replace("--encoding latin-1", "--encoding utf-16-le"))
    return text


def _read_delimited(name: str, text: str, sep: str | None, strings: bool) -> pd.DataFrame:
    first_line = text.split("\n", 1)[0]
    if sep is None:  # the most frequent candidate in the header; ties go to the comma
        sep = max(_SEPARATORS, key=lambda s: (first_line.count(s), s == ","))
    header = next(csv.reader([first_line], delimiter=sep), [])
    seen: set[str] = set()
    for col in (h.strip() for h in header):
        if col in seen and col:
            raise LoupeError(f"{name}: the column name {col!r} appears more than once in the header.",
                             "rename the duplicated columns so every name is unique.")
        seen.add(col)
    options = {"dtype": str, "keep_default_na": False} if strings else {"low_memory": False}
    try:
        frame = pd.read_csv(io.StringIO(text), sep=sep, **options)
    except pd.errors.ParserError as exc:
        raise LoupeError(
            f"{name}: rows have different numbers of fields ({_parser_detail(exc)}).",
            "make every row have as many fields as the header; quote fields that contain "
            f"the separator {sep!r} or line breaks.",
        ) from None
    except pd.errors.EmptyDataError:
        raise LoupeError(f"{name} has no columns.", "add a header row.") from None
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame


def _parser_detail(exc: Exception) -> str:
    message = str(exc).strip()
    return message.split("Error tokenizing data. C error: ")[-1].rstrip(".\n")


def _read_json(name: str, text: str, suffix: str) -> tuple[pd.DataFrame, list[int] | None]:
    """A .json list of objects, or JSON Lines (one object per line; rows keep their line)."""
    if suffix == ".json" and text.lstrip().startswith("["):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise LoupeError(f"{name} is not valid JSON (line {exc.lineno}: {exc.msg}).",
                             "fix the JSON, or write one object per line as .jsonl.") from None
        if not all(isinstance(record, dict) for record in data):
            raise LoupeError(f"{name} must hold a list of objects.",
                             'write [{"text": "...", "label": "positive"}, ...] or use .jsonl.')
        return pd.DataFrame.from_records(data), None
    records, lines = [], []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise LoupeError(f"{name}: line {number} is not valid JSON ({exc.msg}).",
                             'write one JSON object per line, e.g. {"text": "...", "label": "pos"}.'
                             ) from None
        if not isinstance(record, dict):
            raise LoupeError(f"{name}: line {number} is not a JSON object.",
                             'write one object per line, e.g. {"text": "...", "label": 1}.')
        records.append(record)
        lines.append(number)
    return pd.DataFrame.from_records(records), lines


def _read_parquet(name: str, raw: bytes) -> pd.DataFrame:
    try:
        return pd.read_parquet(io.BytesIO(raw))
    except Exception as exc:  # pyarrow raises several types for corrupt files
        detail = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
        raise LoupeError(f"Cannot read '{name}' as PARQUET: not a readable Parquet file ({detail}).",
                         "re-export it (e.g. DataFrame.to_parquet), or save it as CSV.") from None


def numeric_or_none(series: pd.Series) -> pd.Series | None:
    """The column as floats when (almost) every non-missing value is numeric, else None."""
    if pd.api.types.is_bool_dtype(series):
        return None
    if pd.api.types.is_numeric_dtype(series):
        return series.astype(float)
    converted = pd.to_numeric(series, errors="coerce")
    present = series.notna().sum()
    if present and converted.notna().sum() >= 0.98 * present:
        return converted.astype(float)
    return None


def finite_mask(values: pd.Series) -> np.ndarray:
    arr = values.to_numpy(dtype=float, na_value=np.nan)
    return np.isfinite(arr)
