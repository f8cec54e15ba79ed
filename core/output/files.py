"""The file side of the output boundary: where outputs may go and how they are written.

- ``check_output`` validates a target before anything is computed or written: an existing file is
  refused unless ``force``, a folder is refused, the suffix must be one the writer knows, the
  parent folder must exist and be a folder. Commands that write several files validate all of
  them first (``check_outputs``), so ``export --report <a folder>`` fails before the zip exists.
- ``atomic_write`` is the one way a finished output file lands on disk: a temporary file in the
  same folder, fsync, rename. An interrupted write leaves the old file (or nothing), never half a
  file. ``atomic_dir`` is the same for a folder (an export folder, an extracted zip): built beside
  its target, renamed into place, removed on any error. (Checkpoints swap folders with
  ``core.checkpoint.commit_dir``, whose fixed ``.tmp``/``.old`` names let a crashed run recover.)
- ``write_table`` writes predictions and explanation tables (CSV/TSV/JSONL/Parquet) through it;
  CSV and TSV cells are neutralised against formula injection (``csv_safe``).

CSV formula injection (OWASP): a spreadsheet runs a cell that starts with ``=``, ``+``, ``-``,
``@``, a tab or a carriage return as a formula (``=cmd|' /C calc'!A0``). Such text cells get a
leading single quote, which spreadsheets show as text. Numbers stay numbers: a numeric column is
written as numbers (``-1.5`` stays ``-1.5``), only text cells are changed.
"""

from __future__ import annotations

import io
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from core.errors import LoupeError
from core.output.masking import show_path

if TYPE_CHECKING:  # pandas is imported where a table is written: `loupe runs` never needs it
    import pandas as pd

TABLE_SUFFIXES = (".csv", ".tsv", ".jsonl", ".parquet")
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def check_output(path: str | os.PathLike[str], suffixes: Sequence[str] = (), *, force: bool = False,
                 what: str = "output", flag: str = "--out") -> Path:
    """The validated target of one output file (nothing is written here)."""
    raw = str(path)
    if not raw.strip():
        raise LoupeError(f"{flag} is empty.", f"give a file name for the {what}.")
    out = Path(raw).expanduser()
    shown = show_path(out)
    if out.is_dir():
        raise LoupeError(f"{flag} {shown} is a folder.", f"give a file name for the {what} inside it.")
    if suffixes and out.suffix.lower() not in suffixes:
        raise LoupeError(f"{flag} {shown}: a {what} is written as {', '.join(suffixes)}, not "
                         f"'{out.suffix or 'no suffix'}'.",
                         f"end the file name in one of {', '.join(suffixes)}.")
    if out.exists() or out.is_symlink():
        if not force:
            raise LoupeError(f"{flag} {shown} already exists.",
                             "choose a new name, or pass --force to replace it.")
        if not out.is_file():
            raise LoupeError(f"{flag} {shown} exists and is not a regular file.", "choose a new name.")
    _check_parent(out, flag, shown)
    return out


def check_new_dir(path: str | os.PathLike[str], *, force: bool = False, flag: str = "--out") -> Path:
    """A folder output: must not exist (or be empty); its parent must be a folder."""
    out = Path(str(path)).expanduser()
    shown = show_path(out)
    if out.exists() and not out.is_dir():
        raise LoupeError(f"{flag} {shown} is a file, not a folder.",
                         "give a new folder name, or a file name ending in .zip.")
    if out.is_dir() and any(out.iterdir()):
        raise LoupeError(f"{flag} {shown} already exists and is not an empty folder.",
                         "pick a new folder name, or a file name ending in .zip.")
    _check_parent(out, flag, shown)
    return out


def _check_parent(out: Path, flag: str, shown: str) -> None:
    parent = out.parent
    for ancestor in (parent, *parent.parents):  # file.txt/x.csv: a file where a folder should be
        if ancestor.exists() and not ancestor.is_dir():
            raise LoupeError(f"{flag} {shown}: {show_path(ancestor)} is a file, not a folder.",
                             "write into an existing folder.")
        if ancestor.exists():
            break
    if not parent.is_dir():
        raise LoupeError(f"{flag} {shown}: the folder {show_path(parent)} does not exist.",
                         f"create it first (mkdir -p {show_path(parent)}) or write somewhere else.")
    if not os.access(parent, os.W_OK):
        raise LoupeError(f"{flag} {shown}: the folder {show_path(parent)} is not writable.",
                         "write into a folder you can write to.")


def check_outputs(specs: Iterable[tuple[str | os.PathLike[str] | None, Sequence[str], str, str]],
                  force: bool = False) -> list[Path | None]:
    """Validate several outputs (path, suffixes, what, flag) before any of them is written."""
    out: list[Path | None] = []
    seen: set[Path] = set()
    for path, suffixes, what, flag in specs:
        if path is None:
            out.append(None)
            continue
        checked = check_output(path, suffixes, force=force, what=what, flag=flag)
        key = checked.resolve()
        if key in seen:
            raise LoupeError(f"{flag} {show_path(checked)} is also another output of this command.",
                             "give each output its own file name.")
        seen.add(key)
        out.append(checked)
    return out


def atomic_write(path: str | os.PathLike[str], data: bytes | str, *, mode: int = 0o644) -> Path:
    """Write ``data`` to ``path`` through a temporary sibling file, fsync and a rename."""
    out = Path(path).expanduser()
    payload = data.encode("utf-8") if isinstance(data, str) else data
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{out.name[:80]}.", suffix=".part", dir=out.parent)
    except OSError as exc:
        raise LoupeError(f"Cannot write {show_path(out)} ({exc.strerror}).",
                         "pick an existing folder you can write to.") from exc
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, out)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise LoupeError(f"Cannot write {show_path(out)} ({exc.strerror}).",
                         "choose a folder you can write with free space.") from exc
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return out


@contextmanager
def atomic_dir(final: str | os.PathLike[str], *, mode: int | None = 0o755,
               keep_existing: bool = False) -> Iterator[Path]:
    """Yield a fresh folder beside ``final``; when the block ends without an error it is renamed
    to ``final`` (which must be absent or an empty folder), otherwise it is removed.

    ``keep_existing``: when another process put ``final`` in place first (same content, e.g. a
    zip extracted under its hash), keep theirs and drop ours instead of failing."""
    out = Path(final).expanduser()
    try:
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name[:80]}.", suffix=".part", dir=out.parent))
    except OSError as exc:
        raise LoupeError(f"Cannot write {show_path(out)} ({exc.strerror}).",
                         "pick a folder you can write to.") from exc
    try:
        yield tmp
        if mode is not None:
            tmp.chmod(mode)
        if out.is_dir() and not keep_existing and not any(out.iterdir()):
            out.rmdir()
        try:
            os.replace(tmp, out)
        except OSError:
            if not (keep_existing and out.is_dir()):
                raise
            shutil.rmtree(tmp, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def neutralise_cell(value: object) -> object:
    """OWASP: a text cell that a spreadsheet would run as a formula gets a leading quote."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def csv_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy with text cells and column names neutralised; numeric columns untouched."""
    import pandas as pd

    out = frame.copy()
    for col in out.columns:
        if not (pd.api.types.is_numeric_dtype(out[col]) or pd.api.types.is_bool_dtype(out[col])):
            out[col] = out[col].map(neutralise_cell)
    out.columns = [neutralise_cell(str(c)) for c in out.columns]
    return out


def csv_bytes(frame: pd.DataFrame, sep: str = ",") -> bytes:
    """The CSV every Loupe writer and download uses: formula prefixes neutralised, UTF-8."""
    # CRLF rows (RFC 4180): a cell holding a bare CR or LF is then quoted, not split in two.
    return csv_safe(frame).to_csv(index=False, sep=sep, lineterminator="\r\n").encode("utf-8")


def table_bytes(frame: pd.DataFrame, suffix: str) -> bytes:
    suffix = suffix.lower()
    if suffix in (".csv", ".tsv"):
        return csv_bytes(frame, "\t" if suffix == ".tsv" else ",")
    if suffix == ".jsonl":
        return frame.to_json(orient="records", lines=True).encode("utf-8")
    if suffix == ".parquet":
        buffer = io.BytesIO()
        frame.to_parquet(buffer, index=False)
        return buffer.getvalue()
    raise LoupeError(f"Cannot write a table as '{suffix}'.", f"use one of {', '.join(TABLE_SUFFIXES)}.")


def write_table(frame: pd.DataFrame, path: str | os.PathLike[str], *, force: bool = False,
                flag: str = "--out", what: str = "table") -> Path:
    out = check_output(path, TABLE_SUFFIXES, force=force, what=what, flag=flag)
    return atomic_write(out, table_bytes(frame, out.suffix))
