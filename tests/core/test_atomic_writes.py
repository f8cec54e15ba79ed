"""The two safe-write helpers every writer uses: ``atomic_write`` (a file) and ``atomic_dir`` (a
folder). An error part-way leaves nothing behind and the target untouched."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.errors import LoupeError
from core.output import atomic_dir, atomic_write


def _left(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_atomic_write_replaces_whole_or_not_at_all(tmp_path: Path) -> None:
    target = tmp_path / "out.json"
    atomic_write(target, "old")
    assert target.read_text() == "old" and _left(tmp_path) == ["out.json"]
    atomic_write(target, b"new")
    assert target.read_bytes() == b"new" and _left(tmp_path) == ["out.json"]
    with pytest.raises(LoupeError, match="Cannot write"):
        atomic_write(tmp_path / "missing" / "x.json", "data")


def test_atomic_dir_appears_only_when_complete(tmp_path: Path) -> None:
    final = tmp_path / "model"
    with pytest.raises(RuntimeError), atomic_dir(final) as tmp:
        (tmp / "weights").write_bytes(b"half")
        raise RuntimeError("interrupted")
    assert _left(tmp_path) == []
    final.mkdir()  # an empty folder may be the target
    with atomic_dir(final) as tmp:
        (tmp / "weights").write_bytes(b"whole")
    assert _left(final) == ["weights"] and _left(tmp_path) == ["model"]
    assert final.stat().st_mode & 0o777 == 0o755


def test_atomic_dir_keeps_a_finished_twin_or_refuses_to_overwrite(tmp_path: Path) -> None:
    final = tmp_path / "zip-abc"
    with atomic_dir(final, keep_existing=True) as tmp:
        (tmp / "a.png").write_bytes(b"ours")
        final.mkdir()  # another process finished the same extraction first
        (final / "a.png").write_bytes(b"theirs")
    assert (final / "a.png").read_bytes() == b"theirs" and _left(tmp_path) == ["zip-abc"]
    with pytest.raises(OSError), atomic_dir(final) as tmp:
        (tmp / "a.png").write_bytes(b"ours")
    assert (final / "a.png").read_bytes() == b"theirs" and _left(tmp_path) == ["zip-abc"]
