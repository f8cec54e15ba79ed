"""Safe zip extraction: each hostile archive is refused before or while extracting, and nothing is
left behind; a good archive extracts once and trains."""

from __future__ import annotations

import io
import os
import stat
import zipfile
from pathlib import Path

import pytest
from PIL import Image

from core.datasets.image_zip import ZipLimits, safe_extract
from core.errors import LoupeError
from core.tasks import get_task
from data.make_shapes import make_shapes


def png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (9, 9, 9)).save(buffer, format="PNG")
    return buffer.getvalue()


def write_zip(path: Path, entries: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> Path:
    with zipfile.ZipFile(path, "w", method) as zf:
        for name, data in entries.items():
            zf.writestr(zipfile.ZipInfo(name), data, compress_type=method)
    return path


def assert_clean(dest: Path, outside: Path | None = None) -> None:
    """Nothing extracted, no temporary folder left, nothing written outside."""
    assert not dest.exists() or list(dest.iterdir()) == []
    if outside is not None:
        assert not outside.exists()


@pytest.mark.parametrize("name", ["../evil.png", "a/../../evil.png", "..\\evil.png"])
def test_zip_slip_is_refused(tmp_path: Path, name: str) -> None:
    archive = write_zip(tmp_path / "slip.zip", {"cats/ok.png": png(), name: png()})
    dest = tmp_path / "work" / "datasets"
    with pytest.raises(LoupeError, match="unsafe entry"):
        safe_extract(archive, dest)
    assert_clean(dest, tmp_path / "work" / "evil.png")


@pytest.mark.parametrize("name", ["/tmp/evil.png", "C:/evil.png", "\\\\server\\evil.png"])
def test_absolute_paths_are_refused(tmp_path: Path, name: str) -> None:
    archive = write_zip(tmp_path / "abs.zip", {"cats/ok.png": png(), name: png()})
    with pytest.raises(LoupeError, match="unsafe entry"):
        safe_extract(archive, tmp_path / "out")
    assert_clean(tmp_path / "out")


def test_symlink_entries_are_refused(tmp_path: Path) -> None:
    info = zipfile.ZipInfo("cats/link.png")
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    with zipfile.ZipFile(tmp_path / "link.zip", "w") as zf:
        zf.writestr(info, "/etc/passwd")
    with pytest.raises(LoupeError, match="symbolic link"):
        safe_extract(tmp_path / "link.zip", tmp_path / "out")
    assert_clean(tmp_path / "out")


def test_oversize_total_is_refused_from_headers(tmp_path: Path) -> None:
    archive = write_zip(tmp_path / "big.zip", {f"c/{i}.bin": os.urandom(4000) for i in range(3)})
    with pytest.raises(LoupeError, match="would expand to more than"):
        safe_extract(archive, tmp_path / "out", ZipLimits(max_total_bytes=10_000))
    assert_clean(tmp_path / "out")


def test_high_compression_ratio_is_refused(tmp_path: Path) -> None:
    archive = write_zip(tmp_path / "bomb.zip", {"c/zeros.png": b"\0" * (4 << 20)})
    with pytest.raises(LoupeError, match="possible zip bomb"):
        safe_extract(archive, tmp_path / "out")  # default limits: ratio 100 over 1 MiB entries
    assert_clean(tmp_path / "out")


def test_overall_ratio_is_refused(tmp_path: Path) -> None:
    entries = {f"c/{i}.png": b"\0" * (900 << 10) for i in range(14)}  # each under 1 MiB
    archive = write_zip(tmp_path / "many.zip", entries)
    with pytest.raises(LoupeError, match=r"expands \d+x"):
        safe_extract(archive, tmp_path / "out")
    assert_clean(tmp_path / "out")


def test_too_many_files_is_refused(tmp_path: Path) -> None:
    archive = write_zip(tmp_path / "n.zip", {f"c/{i}.png": png() for i in range(12)})
    with pytest.raises(LoupeError, match="more than 10 files"):
        safe_extract(archive, tmp_path / "out", ZipLimits(max_files=10))
    assert_clean(tmp_path / "out")


def test_lying_size_header_is_refused_while_streaming(tmp_path: Path) -> None:
    """The central directory says 10 bytes; the stored data is 5,000. Headers are not trusted."""
    payload = os.urandom(5000)
    archive = write_zip(tmp_path / "lie.zip", {"c/a.png": payload}, zipfile.ZIP_STORED)
    raw = bytearray(archive.read_bytes())
    for signature, offset in ((b"PK\x01\x02", 24), (b"PK\x03\x04", 22)):
        at = raw.find(signature)
        raw[at + offset : at + offset + 4] = (10).to_bytes(4, "little")  # uncompressed size
    archive.write_bytes(bytes(raw))
    with pytest.raises(LoupeError):
        safe_extract(archive, tmp_path / "out")
    assert_clean(tmp_path / "out")


def test_corrupt_and_encrypted_archives(tmp_path: Path) -> None:
    (tmp_path / "bad.zip").write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(LoupeError, match="not a valid zip"):
        safe_extract(tmp_path / "bad.zip", tmp_path / "out")
    archive = write_zip(tmp_path / "enc.zip", {"c/a.png": png()})
    raw = bytearray(archive.read_bytes())
    for signature, offset in ((b"PK\x01\x02", 8), (b"PK\x03\x04", 6)):
        at = raw.find(signature)
        raw[at + offset] |= 0x1  # the "encrypted" flag bit
    archive.write_bytes(bytes(raw))
    with pytest.raises(LoupeError, match="password-protected"):
        safe_extract(archive, tmp_path / "out")
    assert_clean(tmp_path / "out")


def test_good_zip_extracts_once_skipping_macos_forks(tmp_path: Path) -> None:
    archive = write_zip(tmp_path / "ok.zip", {
        "pets/cats/a.png": png(), "pets/dogs/b.png": png(), "__MACOSX/pets/._a.png": b"junk",
    })
    first = safe_extract(archive, tmp_path / "out")
    assert sorted(str(p.relative_to(first)) for p in first.rglob("*.png")) == [
        "pets/cats/a.png", "pets/dogs/b.png"]
    assert safe_extract(archive, tmp_path / "out") == first
    assert [p.name for p in (tmp_path / "out").iterdir()] == [first.name]


def test_task_trains_from_a_zip(tmp_path: Path, loupe_home: Path) -> None:
    folder = make_shapes(tmp_path / "shapes", per_class=5, size=16)
    archive = write_zip(tmp_path / "shapes.zip", {
        f"shapes/{p.relative_to(folder)}": p.read_bytes() for p in sorted(folder.rglob("*.png"))
    })
    task = get_task("image")
    cfg = task.default_config("shapes").replace(data={"source": str(archive)})
    data = task.load_data(cfg)
    assert data.meta["labels"] == ["circle", "square", "triangle"]
    assert sum(data.meta["rows"].values()) == 15
    assert (loupe_home / "datasets").is_dir()
    archive.write_bytes(b"PK" + b"\0" * 20)
    with pytest.raises(LoupeError):
        task.load_data(cfg)


def test_zip_without_images_is_refused_before_extracting(tmp_path: Path, loupe_home: Path) -> None:
    archive = write_zip(tmp_path / "txt.zip", {f"c{i % 2}/{i}.txt": b"x" for i in range(30)})
    task = get_task("image")
    cfg = task.default_config("shapes").replace(data={"source": str(archive)})
    with pytest.raises(LoupeError, match=r"No images found in txt\.zip \(30 other files"):
        task.load_data(cfg)
    assert not any((loupe_home / "datasets").rglob("*.txt"))


def test_failed_validation_removes_the_extraction(tmp_path: Path, loupe_home: Path) -> None:
    archive = write_zip(tmp_path / "one.zip", {"cats/a.png": png(), "cats/b.png": png()})
    task = get_task("image")
    cfg = task.default_config("shapes").replace(data={"source": str(archive)})
    with pytest.raises(LoupeError, match="at least 2 classes"):
        task.load_data(cfg)
    assert not any((loupe_home / "datasets").rglob("*.png"))
