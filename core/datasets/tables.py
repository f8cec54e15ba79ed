"""Read CSV, TSV, Parquet and JSONL tables with errors that name the file, the line and the fix."""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from core.errors import LoupeError

TABLE_SUFFIXES = (".csv", ".tsv", ".txt", ".parquet", ".pq", ".jsonl", ".ndjson", ".json")
DEFAULT_MAX_ROWS = 200_000
_BOMS = {b"\xff\xfe": "utf-16", b"\xfe\xff": "utf-16", b"\xef\xbb\xbf": "utf-8-sig"}


@dataclass
class Table:
    frame: pd.DataFrame
    fingerprint: str
    notices: list[str] = field(default_factory=list)
    source_rows: int = 0


def fingerprint_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def fingerprint_frame(frame: pd.DataFrame) -> str:
    """Content hash of a frame (column names, dtypes and values), stable across runs."""
    digest = hashlib.sha256("|".join(map(str, frame.columns)).encode())
    digest.update(pd.util.hash_pandas_object(frame, index=False).values.tobytes())
    return digest.hexdigest()


def read_table(
    path: str | Path, max_rows: int | None = DEFAULT_MAX_ROWS, seed: int = 0,
    encoding: str | None = None,
) -> Table:
    """Load a table; rows beyond ``max_rows`` are sampled (with a notice), never silently dropped."""
    path = Path(path)
    if not path.exists():
        raise LoupeError(f"File not found: {path}.", "check the path (relative paths start from "
                         "the folder you run Loupe in).")
    if path.is_dir():
        raise LoupeError(f"{path} is a folder, not a table file.", "pass a .csv, .tsv, .parquet "
                         "or .jsonl file.")
    suffix = path.suffix.lower()
    if suffix not in TABLE_SUFFIXES:
        raise LoupeError(
            f"{path.name}: unsupported file type '{suffix or '(none)'}'.",
            "save the table as .csv, .tsv, .parquet or .jsonl.",
        )
    raw = path.read_bytes()
    if not raw.strip():
        raise LoupeError(f"{path.name} is empty.", "choose a file that has a header row and data.")
    if suffix in (".parquet", ".pq"):
        frame = _read_parquet(path, raw)
    else:
        text = _decode(path.name, raw, encoding)
        frame = _read_json_lines(path.name, text) if suffix in (".jsonl", ".ndjson", ".json") \
            else _read_delimited(path.name, text, "\t" if suffix == ".tsv" else None)
    if frame.empty:
        raise LoupeError(f"{path.name} has a header but no data rows.", "add rows of data.")
    table = Table(frame, fingerprint_bytes(raw), source_rows=len(frame))
    return sample_rows(table, max_rows, seed)


def sample_rows(table: Table, max_rows: int | None, seed: int) -> Table:
    if max_rows and len(table.frame) > max_rows:
        table.notices.append(
            f"The file has {len(table.frame):,} rows; a random sample of {max_rows:,} rows "
            f"(seed {seed}) is used. Raise data.max_rows to use more."
        )
        table.frame = table.frame.sample(n=max_rows, random_state=seed).reset_index(drop=True)
    return table


def _decode(name: str, raw: bytes, encoding: str | None) -> str:
    if encoding:
        try:
            return raw.decode(encoding)
        except (UnicodeDecodeError, LookupError) as exc:
            raise LoupeError(f"{name} cannot be read as {encoding}: {exc}.",
                             "pick the file's real encoding, or save it as UTF-8.") from exc
    for bom, codec in _BOMS.items():
        if raw.startswith(bom):
            return raw.decode(codec)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise LoupeError(
            f"{name} is not valid UTF-8: byte 0x{raw[exc.start]:02x} on line {line} cannot be decoded.",
            "save the file as UTF-8 (e.g. 'Save as CSV UTF-8' in a spreadsheet), or give its "
            "encoding: 'Text encoding' on the Data page, --encoding latin-1 on the command line.",
        ) from exc
    if "\x00" in text:  # Python 3.10's csv module stops on NUL with a bare error; 3.11+ garbles
        line = text[: text.index("\x00")].count("\n") + 1
        raise LoupeError(
            f"{name} contains NUL bytes (first on line {line}): it looks like UTF-16 text without a "
            "byte-order mark, or not a text table at all.",
            "save the file as UTF-8, or give its encoding: 'Text encoding' on the Data page, "
            "--encoding utf-16-le on the command line.",
        )
    return text


def _read_delimited(name: str, text: str, sep: str | None) -> pd.DataFrame:
    first_line = text.split("\n", 1)[0]
    if sep is None:
        sep = "\t" if first_line.count("\t") > first_line.count(",") else ","
    header = next(csv.reader([first_line], delimiter=sep), [])
    seen, dupes = set(), []
    for col in (h.strip() for h in header):
        if col in seen:
            dupes.append(col)
        seen.add(col)
    if dupes:
        raise LoupeError(
            f"{name}: the column name {dupes[0]!r} appears more than once in the header.",
            "rename the duplicated columns so every name is unique.",
        )
    try:
        frame = pd.read_csv(io.StringIO(text), sep=sep, low_memory=False)
    except pd.errors.ParserError as exc:
        raise LoupeError(
            f"{name}: rows have different numbers of fields ({_parser_detail(exc)}).",
            "make every row have as many fields as the header; quote fields that contain "
            f"the separator {sep!r}.",
        ) from exc
    except pd.errors.EmptyDataError as exc:
        raise LoupeError(f"{name} has no columns.", "add a header row.") from exc
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame


def _parser_detail(exc: Exception) -> str:
    message = str(exc).strip()
    return message.split("Error tokenizing data. C error: ")[-1].rstrip(".\n")


def _read_json_lines(name: str, text: str) -> pd.DataFrame:
    try:
        if text.lstrip().startswith("["):
            return pd.read_json(io.StringIO(text))
        return pd.read_json(io.StringIO(text), lines=True)
    except ValueError as exc:
        bad = _first_bad_json_line(text)
        raise LoupeError(
            f"{name}: line {bad} is not a JSON object ({exc}).",
            "write one JSON object per line, e.g. {\"text\": \"...\", \"label\": \"pos\"}.",
        ) from exc


def _first_bad_json_line(text: str) -> int:
    import json

    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip():
            try:
                json.loads(line)
            except json.JSONDecodeError:
                return number
    return 1


def _read_parquet(path: Path, raw: bytes) -> pd.DataFrame:
    try:
        return pd.read_parquet(io.BytesIO(raw))
    except Exception as exc:  # pyarrow raises several types for corrupt files
        raise LoupeError(f"{path.name} is not a readable Parquet file ({exc}).",
                         "re-export it, or save it as CSV.") from exc


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
