"""Hostile zips for the image kind: path traversal, absolute paths, symlinks, a zip bomb, 50,000 tiny
files, and files that only pretend to be zips.

Documented outcome (core/datasets/image_zip.py, docs/security.md): names and sizes are checked from
the central directory before a byte is written; a traversal, an absolute path or a link refuses the
whole archive; a ratio over 100x (entries over 1 MiB) is refused as a zip bomb; over 100,000 files or
2 GB is refused; nothing is extracted outside LOUPE_HOME/datasets and nothing half-extracted stays.
"""

from __future__ import annotations

import stat
import zipfile
from pathlib import Path

import pytest

from core.config import RunConfig
from core.errors import LoupeError
from core.train import train
from tests.hostile.conftest import (
    assert_clear,
    assert_cli_error,
    assert_nothing_written,
    cli,
    leftovers,
    png_bytes,
    stored_zip,
    zip_of,
)


def image_config(source: Path) -> RunConfig:
    return RunConfig(task="image").replace(
        data={"source": str(source)}, model={"name": "small_cnn", "image_size": 32, "pretrained": False},
        train={"epochs": 1, "max_steps": 1, "batch_size": 8})


def _good(n: int = 6) -> list[tuple[str, bytes]]:
    return [(f"cats/{i}.png", png_bytes(color=(220, 40, 40))) for i in range(n)] + \
           [(f"dogs/{i}.png", png_bytes(color=(40, 40, 220))) for i in range(n)]


def _symlink_zip(path: Path) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in _good(3):
            archive.writestr(name, data)
        link = zipfile.ZipInfo("cats/passwd.png")
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        archive.writestr(link, "/etc/passwd")
    return path


def hostile_zips(tmp_path: Path) -> dict[str, tuple[Path, list[str]]]:
    """case -> (zip path, words the error must contain)."""
    return {
        "../ traversal": (zip_of(tmp_path / "dotdot.zip", [*_good(3), ("../../evil.png", png_bytes())]),
                          ["dotdot.zip", "unsafe entry '../../evil.png'", "re-create the zip"]),
        "..\\ traversal": (zip_of(tmp_path / "backslash.zip",
                                  [*_good(3), ("cats\\..\\..\\..\\evil.png", png_bytes())]),
                           ["backslash.zip", "unsafe entry", "re-create the zip"]),
        "absolute path": (zip_of(tmp_path / "absolute.zip",
                                 [*_good(3), (f"{tmp_path}/evil_absolute.png", png_bytes())]),
                          ["absolute.zip", "unsafe entry", "absolute path"]),
        "drive letter": (zip_of(tmp_path / "drive.zip", [*_good(3), ("C:/evil.png", png_bytes())]),
                         ["drive.zip", "unsafe entry 'C:/evil.png'"]),
        "symlink entry": (_symlink_zip(tmp_path / "link.zip"),
                          ["link.zip", "symbolic link 'cats/passwd.png'", "zip the real files"]),
        "zip bomb": (zip_of(tmp_path / "bomb.zip", [*_good(3), ("cats/big.png", bytes(16 << 20))]),
                     ["bomb.zip", "zip bomb", "expands"]),
        "not a zip": (_bytes(tmp_path / "fake.zip", b"PK\x03\x04 this is not really a zip " * 20),
                      ["fake.zip", "neither a folder nor a zip"]),
        "truncated zip": (_bytes(tmp_path / "cut.zip",
                                 zip_of(tmp_path / "whole.zip", _good(3)).read_bytes()[:700]),
                          ["cut.zip", "neither a folder nor a zip"]),
    }


def _bytes(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


CASES = ["../ traversal", "..\\ traversal", "absolute path", "drive letter", "symlink entry",
         "zip bomb", "not a zip", "truncated zip"]


def _no_escape(tmp_path: Path) -> None:
    """No traversal target (evil.png, evil_absolute.png) was written anywhere around the test.

    Exact names: other tests in the same pytest base folder may legitimately store files such as an
    upload called evil_name.csv."""
    escaped = [p for p in tmp_path.parent.rglob("evil*.png") if p.is_file()]
    assert not escaped, escaped


@pytest.mark.parametrize("case", CASES)
def test_hostile_zip_core_api(case: str, tmp_path: Path, loupe_home: Path) -> None:
    path, words = hostile_zips(tmp_path)[case]
    with pytest.raises(LoupeError) as err:
        train(image_config(path))
    assert_clear(str(err.value), *words)
    assert_nothing_written(loupe_home)
    _no_escape(tmp_path)


@pytest.mark.parametrize("case", CASES)
def test_hostile_zip_cli(case: str, tmp_path: Path, loupe_home: Path, run_cli) -> None:
    path, words = hostile_zips(tmp_path)[case]
    code, err = run_cli("train", "image", "--data", str(path), "--model", "small_cnn",
                        "--image-size", "32", "--max-steps", "1")
    assert code == 2, err
    assert_clear(err, *words)
    assert_nothing_written(loupe_home)
    _no_escape(tmp_path)


def test_traversal_zip_subprocess(tmp_path: Path) -> None:
    """The real `loupe` process refuses it with exit status 2 and writes nothing."""
    home = tmp_path / "home"
    path, words = hostile_zips(tmp_path)["../ traversal"]
    assert_cli_error(cli(home, "train", "image", "--data", str(path), "--model", "small_cnn"), *words)
    assert_nothing_written(home)
    _no_escape(tmp_path)


def test_zip_bomb_is_refused_before_anything_is_inflated(tmp_path: Path, loupe_home: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """The ratio check reads the central directory: no entry is ever opened for reading."""
    path, _ = hostile_zips(tmp_path)["zip bomb"]
    opened: list[str] = []
    real_open = zipfile.ZipFile.open

    def spy(self: zipfile.ZipFile, name: object, *args: object, **kwargs: object):
        opened.append(getattr(name, "filename", str(name)))
        return real_open(self, name, *args, **kwargs)

    monkeypatch.setattr(zipfile.ZipFile, "open", spy)
    with pytest.raises(LoupeError, match="zip bomb"):
        train(image_config(path))
    assert opened == []


@pytest.mark.slow
def test_fifty_thousand_tiny_files(tmp_path: Path, loupe_home: Path) -> None:
    """50,000 one-byte files (under the 100,000-file cap): extracted, found to hold no image, and
    refused with the count. The process stays alive; nothing may be left under LOUPE_HOME."""
    path = stored_zip(tmp_path / "tiny.zip", ((f"c{i % 2}/{i}.txt", b"x") for i in range(50_000)))
    with pytest.raises(LoupeError) as err:
        train(image_config(path))
    assert_clear(str(err.value), "No images found", "50000 other files ignored")
    assert run_rows_zero(loupe_home)
    left = leftovers(loupe_home)
    assert not left, f"{len(left):,} files left under LOUPE_HOME (the failed extraction must go)"


def run_rows_zero(home: Path) -> bool:
    from tests.hostile.conftest import run_rows

    return run_rows(home) == 0


def test_too_many_files_is_refused_from_the_directory(tmp_path: Path, loupe_home: Path) -> None:
    """Over the cap: refused from the central directory, before a single file is written (the cap is
    lowered through ZipLimits so the archive stays small)."""
    from core.datasets.image_zip import ZipLimits, safe_extract

    path = stored_zip(tmp_path / "many.zip", ((f"c/{i}.png", b"x") for i in range(2_001)))
    with pytest.raises(LoupeError) as err:
        safe_extract(path, loupe_home / "datasets", ZipLimits(max_files=2_000))
    assert_clear(str(err.value), "more than 2,000 files")
    assert leftovers(loupe_home) == []
