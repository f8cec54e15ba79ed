"""Uploads kept in the history: every file a user uploads on Data or Predict, until deleted.

The bytes live under ``LOUPE_HOME/uploads/<sha256>/<sanitised name>`` (the uploaded name is never
used as a path as given); the ``uploads`` table holds one row per (content, name): the name masked
as every user text is, the size, the SHA-256 fingerprint, when, and the column choices last made
for it on Data per task kind (so Train offers it with those choices in any later session).
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from core.errors import LoupeError
from core.output.files import atomic_write

UPLOAD_SUFFIXES = (".csv", ".tsv", ".txt", ".parquet", ".pq", ".jsonl", ".ndjson", ".json", ".zip",
                   ".png", ".jpg", ".jpeg", ".webp", ".bmp", ".gif")
_SAFE = re.compile(r"[^A-Za-z0-9._-]+")
_COLUMNS = "id, name, path, bytes, sha256, uploaded_at, choices_json"


class _Store(Protocol):
    home: Path

    def connect(self): ...  # a context manager yielding a DuckDB connection


@dataclass(frozen=True)
class Upload:
    """One kept upload. ``name`` is masked; ``path`` is where the bytes are."""

    id: str
    name: str
    path: Path
    bytes: int
    sha256: str
    uploaded_at: datetime
    choices: dict[str, dict[str, Any]]

    @property
    def suffix(self) -> str:
        return self.path.suffix.lower()

    def label(self) -> str:
        """Masked name · size · fingerprint · when, for pickers."""
        return (f"{self.name} · {human_bytes(self.bytes)} · {self.sha256[:12]} · "
                f"{self.uploaded_at:%Y-%m-%d %H:%M}")


def human_bytes(n: int) -> str:
    size = float(n)
    for unit in ("bytes", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{int(size):,} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} bytes"


def safe_name(name: str) -> str:
    """A file name that is safe to join to a folder: no path parts, no odd characters."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    stem, dot, suffix = base.rpartition(".")
    if not dot:
        stem, suffix = base, ""
    stem = _SAFE.sub("_", stem).strip("._-")[:80] or "upload"
    suffix = _SAFE.sub("", suffix).lower()[:10]
    return f"{stem}.{suffix}" if suffix else stem


def _masked_name(name: str) -> str:
    """The file name with personal data in its stem masked (the suffix kept): neither the file on
    disk nor the store's row carries a name or an e-mail address from the uploaded name."""
    from core.output import mask_message

    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    stem, dot, suffix = base.rpartition(".")
    return f"{mask_message(stem)}.{suffix}" if dot and stem else mask_message(base)


def save_upload(store: _Store, name: str, data: bytes) -> Upload:
    """Keep uploaded bytes and record them; the same bytes under the same name are one upload
    (its time refreshed, so it comes first again)."""
    from core.output import mask_message

    clean = safe_name(_masked_name(name))
    if not clean.lower().endswith(UPLOAD_SUFFIXES):
        raise LoupeError(f"'{mask_message(clean)}' is not a file type Loupe reads.",
                         "upload a CSV, TSV, Parquet, JSONL or text file, an image, or a zip of images.")
    if not data:
        raise LoupeError(f"The upload '{mask_message(clean)}' is empty.", "choose a file with data in it.")
    digest = hashlib.sha256(data).hexdigest()
    folder = store.home / "uploads" / digest
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / clean
    if not path.exists():
        atomic_write(path, data)
    rel = path.relative_to(store.home).as_posix()
    now = datetime.now()
    with store.connect() as con:
        row = con.execute("SELECT id FROM uploads WHERE path = ?", [rel]).fetchone()
        if row:
            con.execute("UPDATE uploads SET uploaded_at = ? WHERE id = ?", [now, row[0]])
        else:
            con.execute(f"INSERT INTO uploads ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, '{{}}')",
                        [uuid.uuid4().hex[:10], mask_message(clean), rel, len(data), digest, now])
    return next(u for u in list_uploads(store) if u.path == path)


def list_uploads(store: _Store, suffixes: tuple[str, ...] | None = None) -> list[Upload]:
    """Kept uploads, newest first; only those whose file is still there, and with ``suffixes``
    only those of these types (e.g. what a task kind reads)."""
    with store.connect() as con:
        rows = con.execute(f"SELECT {_COLUMNS} FROM uploads ORDER BY uploaded_at DESC, id").fetchall()
    out = []
    for id_, name, rel, size, digest, when, choices in rows:
        up = Upload(id_, name, store.home / rel, int(size), digest, when, json.loads(choices or "{}"))
        if up.path.is_file() and (suffixes is None or up.suffix in suffixes):
            out.append(up)
    return out


def find_upload(store: _Store, path: str | Path) -> Upload | None:
    """The kept upload stored at ``path``, if it is one."""
    return next((u for u in list_uploads(store) if str(u.path) == str(path)), None)


def remember_choices(store: _Store, upload: Upload, kind: str, data: dict[str, Any]) -> None:
    """The column choices made for this upload on Data (per task kind), for Train to reuse."""
    choices = {**upload.choices, kind: data}
    with store.connect() as con:
        con.execute("UPDATE uploads SET choices_json = ? WHERE id = ?",
                    [json.dumps(choices, sort_keys=True), upload.id])


def delete_upload(store: _Store, upload_id: str) -> None:
    """Forget an upload and remove its file (its content folder too, when nothing else is in it)."""
    with store.connect() as con:
        row = con.execute("SELECT path FROM uploads WHERE id = ?", [upload_id]).fetchone()
        if row is None:
            raise LoupeError(f"There is no upload '{upload_id}'.", "pick one from the list.")
        con.execute("DELETE FROM uploads WHERE id = ?", [upload_id])
    path = store.home / row[0]
    path.unlink(missing_ok=True)
    folder = path.parent
    if folder.is_dir() and not any(folder.iterdir()):
        shutil.rmtree(folder, ignore_errors=True)
