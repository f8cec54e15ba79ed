"""Safe extraction of user zips (training sets and prediction batches).

A zip from a browser upload is hostile until proven otherwise. Defaults (``ZipLimits``):

* every entry name must stay inside the target: no ``..`` components, no absolute paths
  (``/x``, ``\\x``, ``C:x``), no symlinks — any such entry refuses the whole archive;
* at most 100,000 files and 2 GB uncompressed in total;
* compression ratio at most 100 per file (entries over 1 MiB) and overall (archives over 10 MiB):
  tiny files legitimately compress far better and cannot exhaust anything, the totals cap them.

The limits are checked from the central directory BEFORE anything is written, then enforced
again while streaming each entry, because headers can lie: an entry that inflates past its
declared size, the total or the ratio aborts the extraction. Files go to a temporary folder next
to the destination that is renamed into place only when everything succeeded; on any error it is
removed, so nothing half-extracted is left behind. The destination is named after the zip's
content hash, so extracting the same archive twice reuses the first result.
"""

from __future__ import annotations

import hashlib
import stat
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from core.errors import LoupeError
from core.output.files import atomic_dir

CHUNK = 1 << 20
SKIPPED_PREFIXES = ("__MACOSX/",)


@dataclass(frozen=True)
class ZipLimits:
    """Caps applied to every archive; see the module docstring for why these defaults."""

    max_total_bytes: int = 2 * 1024**3
    max_files: int = 100_000
    max_ratio: float = 100.0
    ratio_min_entry_bytes: int = 1 << 20  # per-entry ratio checked above this size
    ratio_min_total_bytes: int = 10 << 20  # overall ratio checked above this size


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _member_path(info: zipfile.ZipInfo, zip_name: str) -> PurePosixPath | None:
    """The safe relative path of an entry, None for entries we skip (folders, macOS forks), or a
    LoupeError for entries that try to escape the target."""
    raw = info.filename
    name = raw.replace("\\", "/")
    unsafe = (
        name.startswith("/")
        or (len(name) > 1 and name[1] == ":")
        or any(part == ".." for part in name.split("/"))
    )
    if unsafe:
        raise LoupeError(
            f"The zip {zip_name} contains an unsafe entry '{raw}' that points outside the folder "
            "it would be extracted to (absolute path or '..').",
            "re-create the zip from the dataset folder itself, e.g. `zip -r data.zip cats dogs`.",
        )
    mode = info.external_attr >> 16
    if stat.S_ISLNK(mode):
        raise LoupeError(
            f"The zip {zip_name} contains a symbolic link '{raw}'; links are not extracted.",
            "zip the real files instead (zip without --symlinks).",
        )
    if info.is_dir() or name.startswith(SKIPPED_PREFIXES) or not name.strip("/"):
        return None
    parts = [p for p in name.split("/") if p not in ("", ".")]
    return PurePosixPath(*parts) if parts else None


def _check_headers(
    zf: zipfile.ZipFile, zip_path: Path, limits: ZipLimits
) -> list[tuple[zipfile.ZipInfo, PurePosixPath]]:
    """Validate names and declared sizes before writing a byte."""
    members: list[tuple[zipfile.ZipInfo, PurePosixPath]] = []
    total = 0
    seen: set[str] = set()
    for info in zf.infolist():
        rel = _member_path(info, zip_path.name)
        if rel is None or str(rel).lower() in seen:
            continue
        if info.flag_bits & 0x1:
            raise LoupeError(
                f"The zip {zip_path.name} is password-protected ('{info.filename}').",
                "re-create it without a password.",
            )
        seen.add(str(rel).lower())
        members.append((info, rel))
        total += info.file_size
        if len(members) > limits.max_files:
            raise LoupeError(
                f"The zip {zip_path.name} holds more than {limits.max_files:,} files.",
                "split the dataset or sample it down before zipping.",
            )
        _check_ratio(info.filename, info.file_size, info.compress_size, limits, zip_path)
    _check_total(total, zip_path, limits)
    return members


def _check_total(total: int, zip_path: Path, limits: ZipLimits) -> None:
    if total > limits.max_total_bytes:
        raise LoupeError(
            f"The zip {zip_path.name} would expand to more than "
            f"{limits.max_total_bytes / 1024**3:.1f} GB.",
            "use a smaller dataset (e.g. resize the images) or point Loupe at a folder instead.",
        )
    archive = max(zip_path.stat().st_size, 1)
    if total > limits.ratio_min_total_bytes and total / archive > limits.max_ratio:
        raise LoupeError(
            f"The zip {zip_path.name} expands {total / archive:.0f}x (over the "
            f"{limits.max_ratio:.0f}x limit): refused as a possible zip bomb.",
            "zip the images themselves; photos do not compress that much.",
        )


def _check_ratio(name: str, size: int, packed: int, limits: ZipLimits, zip_path: Path) -> None:
    if size > limits.ratio_min_entry_bytes and size / max(packed, 1) > limits.max_ratio:
        raise LoupeError(
            f"The entry '{name}' in {zip_path.name} expands {size / max(packed, 1):.0f}x "
            f"(over the {limits.max_ratio:.0f}x limit): refused as a possible zip bomb.",
            "remove that file from the zip.",
        )


def _stream_member(
    zf: zipfile.ZipFile,
    info: zipfile.ZipInfo,
    target: Path,
    written_before: int,
    zip_path: Path,
    limits: ZipLimits,
) -> int:
    """Copy one entry in chunks, enforcing the limits on the bytes actually produced."""
    written = 0
    with zf.open(info) as src, target.open("wb") as dst:
        while chunk := src.read(CHUNK):
            written += len(chunk)
            if written > info.file_size:
                raise LoupeError(
                    f"The entry '{info.filename}' in {zip_path.name} inflates past the size its "
                    "header declares: refused as a tampered archive.",
                    "re-create the zip with a standard tool.",
                )
            _check_ratio(info.filename, written, info.compress_size, limits, zip_path)
            _check_total(written_before + written, zip_path, limits)
            dst.write(chunk)
    return written


def safe_extract(
    zip_path: Path,
    dest_root: Path,
    limits: ZipLimits | None = None,
    require_suffixes: tuple[str, ...] = (),
) -> Path:
    """Extract ``zip_path`` under ``dest_root/<sha256 prefix>`` and return that folder.

    With ``require_suffixes``, an archive with no entry ending in one of them (an image zip with
    no images) is refused from its directory, before thousands of useless files are written.
    """
    limits = limits or ZipLimits()
    zip_path = Path(zip_path)
    try:
        digest = file_sha256(zip_path)
    except OSError as exc:
        raise LoupeError(f"Cannot read {zip_path} ({exc.strerror}).", "check the path.") from exc
    final = Path(dest_root) / f"zip-{digest[:20]}"
    if final.is_dir():
        return final
    final.parent.mkdir(parents=True, exist_ok=True)
    with atomic_dir(final, mode=None, keep_existing=True) as tmp:
        try:
            with zipfile.ZipFile(zip_path) as zf:
                members = _check_headers(zf, zip_path, limits)
                if require_suffixes and not any(
                    str(rel).lower().endswith(require_suffixes) for _, rel in members
                ):
                    raise LoupeError(
                        f"No images found in {zip_path.name} ({len(members)} other files "
                        "ignored).",
                        "zip one folder per class of JPEG/PNG/WebP/BMP/GIF images, e.g. "
                        "cats/1.jpg and dogs/2.jpg.",
                    )
                written = 0
                for info, rel in members:
                    target = tmp.joinpath(*rel.parts)
                    if not target.resolve().is_relative_to(tmp.resolve()):
                        raise LoupeError(f"Unsafe entry '{info.filename}' in {zip_path.name}.")
                    target.parent.mkdir(parents=True, exist_ok=True)
                    written += _stream_member(zf, info, target, written, zip_path, limits)
        except zipfile.BadZipFile as exc:
            raise LoupeError(
                f"{zip_path.name} is not a valid zip file ({exc}).",
                "re-create the zip, or point Loupe at the folder of images.",
            ) from exc
        except (zipfile.LargeZipFile, NotImplementedError, RuntimeError, EOFError) as exc:
            raise LoupeError(
                f"{zip_path.name} cannot be extracted ({exc}).",
                "re-create it with a standard zip tool (deflate compression, no password).",
            ) from exc
    return final  # another process that extracted the same zip first: theirs is kept


def is_zip(path: Path) -> bool:
    """True for a file that is a zip archive, whatever its suffix."""
    return Path(path).is_file() and zipfile.is_zipfile(path)
