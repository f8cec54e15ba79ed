"""Hostile-input helpers: generators for bad files, the CLI as a subprocess, and the "nothing was
written" checks every case ends with.

Every bad input is generated at test time (nothing large is committed). Each case is driven through
a real entry point — the core API (``core.train.train`` / a task's ``load_data``), the CLI
(``python -m core.cli`` in a subprocess, or ``core.cli.main`` in-process where a subprocess per case
would cost too much) and the dashboard's upload path (AppTest) — and asserts the documented outcome:
a ``LoupeError`` that names the problem and the fix, no run row, no leftover file under
LOUPE_HOME besides the run history and the masking secret, and a process that is still alive.
"""

from __future__ import annotations

import builtins
import io
import os
import pickle
import signal
import struct
import subprocess
import sys
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
# Files a Loupe home legitimately holds before any run exists.
STATE_FILES = {"loupe.duckdb", "loupe.duckdb.wal", "secret.key"}


# --- the outcome checks ----------------------------------------------------------------------
def leftovers(home: Path, allow: Iterable[str] = ()) -> list[str]:
    """Files under ``home`` other than the run history and the secret (and ``allow`` prefixes)."""
    if not home.exists():
        return []
    found = []
    for path in home.rglob("*"):
        if path.is_dir() and not path.is_symlink():
            continue
        rel = path.relative_to(home).as_posix()
        if rel in STATE_FILES or any(rel.startswith(prefix) for prefix in allow):
            continue
        found.append(rel)
    return sorted(found)


def run_rows(home: Path) -> int:
    """Run rows in the store under ``home`` (0 when no store was created)."""
    db = home / "loupe.duckdb"
    if not db.exists():
        return 0
    from core.store import RunStore

    return RunStore(db).count_runs()


def assert_nothing_written(home: Path, allow: Iterable[str] = ()) -> None:
    assert run_rows(home) == 0, "a refused input must not create a run"
    left = leftovers(home, allow)
    assert not left, f"files left under LOUPE_HOME: {left[:10]}{' …' if len(left) > 10 else ''}"


def assert_clear(message: str, *words: str) -> None:
    """A message a user can act on: names the problem (``words``) and says how to fix it."""
    assert "Fix:" in message, message
    assert "Traceback" not in message, message
    for word in words:
        assert word.lower() in message.lower(), f"{word!r} not in: {message}"


# --- the CLI ---------------------------------------------------------------------------------
def cli_env(home: Path) -> dict[str, str]:
    env = {**os.environ, "LOUPE_HOME": str(home), "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1",
           "TRANSFORMERS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false", "PYTHONUNBUFFERED": "1"}
    # One BLAS/OpenMP thread per child: on a loaded 2-core machine more threads only spin.
    env.setdefault("OMP_NUM_THREADS", "1")
    return env


def cli(home: Path, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """``python -m core.cli ARGS`` with LOUPE_HOME=home, as a user would run it."""
    return subprocess.run([sys.executable, "-m", "core.cli", *args], cwd=ROOT, env=cli_env(home),
                          capture_output=True, text=True, timeout=timeout)


def assert_cli_error(proc: subprocess.CompletedProcess[str], *words: str) -> None:
    """Exit status 2 with one ``error: … Fix: …`` message and no traceback."""
    assert proc.returncode == 2, f"exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    assert proc.stderr.lstrip().startswith("error:"), proc.stderr
    assert_clear(proc.stderr, *words)


@pytest.fixture
def run_cli(capsys: pytest.CaptureFixture[str]) -> Iterator:
    """``core.cli.main(argv)`` in this process: (exit code, stderr); ``.stdout`` holds the last
    call's output. Restores the SIGTERM handler that ``loupe train`` installs."""
    from core.cli import main

    saved = signal.getsignal(signal.SIGTERM)

    def call(*argv: str) -> tuple[int, str]:
        capsys.readouterr()
        code = main(list(argv))
        captured = capsys.readouterr()
        call.stdout = captured.out  # type: ignore[attr-defined]
        return code, captured.err

    yield call
    signal.signal(signal.SIGTERM, saved)


# --- generated bad files ---------------------------------------------------------------------
def png_bytes(size: int = 16, color: tuple[int, int, int] = (200, 30, 30)) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (size, size), color).save(buffer, "PNG")
    return buffer.getvalue()


def jpeg_bytes(size: int = 64, seed: int = 0) -> bytes:
    from PIL import Image

    pixels = (np.random.default_rng(seed).random((size, size, 3)) * 255).astype("uint8")
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def bomb_png(width: int = 100_000, height: int = 100_000) -> bytes:
    """A 70-byte PNG whose header claims width x height pixels (10 gigapixels by default)."""
    data = bytearray(png_bytes(1))
    data[16:24] = struct.pack(">II", width, height)  # IHDR width and height
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])) & 0xFFFFFFFF)  # IHDR CRC
    return bytes(data)


def image_folder(root: Path, classes: dict[str, int]) -> Path:
    """``root/<class>/<i>.png`` with a distinct colour per class."""
    for index, (name, count) in enumerate(classes.items()):
        folder = root / name
        folder.mkdir(parents=True, exist_ok=True)
        color = ((index * 97) % 256, (index * 57 + 80) % 256, (index * 151 + 40) % 256)
        for i in range(count):
            (folder / f"{i}.png").write_bytes(png_bytes(16, color))
    return root


def zip_of(path: Path, entries: Iterable[tuple[str, bytes]],
           compression: int = zipfile.ZIP_DEFLATED) -> Path:
    """A zip with entries named exactly as given (``ZipInfo`` keeps '../' and leading '/')."""
    with zipfile.ZipFile(path, "w", compression) as archive:
        for name, data in entries:
            info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
            info.compress_type = compression
            archive.writestr(info, data)
    return path


def stored_zip(path: Path, entries: Iterable[tuple[str, bytes]]) -> Path:
    """A valid stored (uncompressed) zip written directly: ~50x faster than ``zipfile`` for tens of
    thousands of tiny entries."""
    central, offset = [], 0
    with open(path, "wb") as out:
        for name, data in entries:
            raw, crc, size = name.encode(), zlib.crc32(data), len(data)
            header = struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 0, 0, 0x21, crc, size, size,
                                 len(raw), 0)
            out.write(header + raw + data)
            central.append(struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 0, 0, 0x21, crc,
                                       size, size, len(raw), 0, 0, 0, 0, 0, offset) + raw)
            offset += len(header) + len(raw) + size
        directory = b"".join(central)
        out.write(directory)
        out.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(central), len(central),
                              len(directory), offset, 0))
    return path


class _MarkerOnLoad:
    """Unpickling this creates ``path`` (via ``open(path, 'w')``): proof that a pickle ran."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self) -> tuple:
        return (builtins.open, (str(self.path), "w"))


def marker_pickle(marker: Path, torch_format: bool = False) -> bytes:
    """A pickle (or a ``torch.save`` zip) that creates ``marker`` when it is loaded."""
    payload = {"weight": _MarkerOnLoad(marker)}
    if not torch_format:
        return pickle.dumps(payload, protocol=2)
    import torch

    buffer = io.BytesIO()
    torch.save(payload, buffer)
    return buffer.getvalue()


@pytest.fixture
def marker(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "PICKLE_RAN"
    yield path
    assert not path.exists(), "a pickle was unpickled: its __reduce__ created the marker file"


def dashboard_page(name: str) -> Path:
    """The dashboard page file ``name`` under dashboard/views."""
    path = ROOT / "dashboard" / "views" / f"{name}.py"
    assert path.is_file(), f"no dashboard page {name}"
    return path


def open_dashboard_page(name: str):
    """AppTest of the whole app (navigation, page config) switched to page ``name``."""
    from streamlit.testing.v1 import AppTest

    page = dashboard_page(name)
    at = AppTest.from_file(str(ROOT / "dashboard" / "app.py"), default_timeout=180)
    at.run()
    at.switch_page(page.relative_to(ROOT / "dashboard").as_posix()).run()
    return at
