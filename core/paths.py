"""Where runtime state lives: ``$LOUPE_HOME`` (default ``~/.local/share/loupe``)."""

from __future__ import annotations

import os
from pathlib import Path

from core.errors import LoupeError


def loupe_home() -> Path:
    """The state folder, created on first use; a clear error when it cannot be written."""
    home = Path(os.environ.get("LOUPE_HOME") or Path.home() / ".local" / "share" / "loupe")
    try:
        if not home.is_dir():  # runs, uploads and the privacy audit: readable by the owner only
            home.mkdir(parents=True, exist_ok=True)
            home.chmod(0o700)
    except OSError as exc:
        raise LoupeError(
            f"Cannot create the Loupe state folder {home} ({exc.strerror}).",
            "set LOUPE_HOME to a folder you can write, e.g. export LOUPE_HOME=/tmp/loupe.",
        ) from exc
    if not os.access(home, os.W_OK):
        raise LoupeError(
            f"The Loupe state folder {home} is not writable.",
            "fix its permissions or set LOUPE_HOME to a writable folder.",
        )
    return home
