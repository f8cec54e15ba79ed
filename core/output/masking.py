"""The masking side of the output boundary: what a value may look like when it leaves Loupe.

Every writer (CLI, exports, model card, HTML report, explanation files, prediction files, error
messages, the run history's user-typed fields) calls these instead of ``mask_text`` directly, so
three rules hold everywhere:

- **Machine fields are never text-masked.** Ids, fingerprints, digests and numbers are recognised
  by their key (``MACHINE_KEYS``) in structures and by their shape (long hex strings) in sentences,
  and passed through byte-for-byte: a SHA-256 fingerprint must not turn into ``…<PHONE_NUMBER>…``.
- **Already-masked tokens are not masked again** (``<EMAIL>``, ``<EMAIL:1f0c…>``): masking twice
  turned the 16 hex digits of a keyed token into a phone number.
- **Paths are shown relative to LOUPE_HOME, or by their masked file name**: the absolute location
  of someone's home folder (or a folder named after a person) is not for a report or a terminal.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from core.datasets.samples import parse_sample
from core.privacy import mask_text

# Keys whose values are machine fields (exact names, or names ending in one of the suffixes).
MACHINE_KEYS = frozenset({
    "id", "run_id", "fingerprint", "dataset_fingerprint", "sha256", "hash", "digest", "checksum",
    "format", "dtype", "shape", "kind", "task", "method", "status", "device", "precision",
    "created_at", "started_at", "finished_at", "heartbeat_at", "pid", "host",
})
MACHINE_SUFFIXES = ("_id", "_sha256", "_fingerprint", "_hash", "_digest", "_at", "_bytes")

# Shapes that are machine fields wherever they appear in a sentence: masked tokens (never masked
# twice) and hex digests/ids with both letters and digits (a run id, a fingerprint, a hash token).
# The look-arounds keep an e-mail or URL that merely contains hex (``ab12cd34ef@x.org``) whole.
_PROTECTED = re.compile(
    r"<[A-Z][A-Z_]{1,30}(?::[0-9a-f]{6,64})?>"
    r"|(?<![\w@.+\-/:%])(?=[0-9a-f]*[a-f])(?=[0-9a-f]*[0-9])[0-9a-f]{8,128}(?![\w@.\-/:%])"
)
_HOME_ENV = "$LOUPE_HOME"


def is_machine_key(key: object) -> bool:
    k = str(key).lower()
    return k in MACHINE_KEYS or k.endswith(MACHINE_SUFFIXES)


def mask_message(text: object, operator: str = "replace") -> str:
    """Mask a sentence for people (an error, a notice, a line of CLI output).

    Protected shapes (masked tokens, hex ids and digests) are cut out and kept verbatim; the
    text between them is masked piece by piece.
    """
    text = "" if text is None else str(text)
    if not text:
        return text
    out, pos = [], 0
    for match in _PROTECTED.finditer(text):
        out.append(mask_text(text[pos:match.start()], operator))
        out.append(match.group(0))
        pos = match.end()
    out.append(mask_text(text[pos:], operator))
    return "".join(out)


# Names Loupe builds around a label: ``p_<label>`` columns and ``[split_]precision_<label>`` metrics.
_LABEL_PREFIX = re.compile(r"^(p_|(?:(?:train|val|test)_)?(?:precision|recall|f1)_)(.+)$", re.S)


def mask_label(label: object) -> str:
    """A class label, column or feature name as an identifier: masked with the keyed hash, so two
    different e-mail labels stay two different names (``precision_<EMAIL:1f0c…>``) and a clean
    label (``positive``) is unchanged. A prefix Loupe added (``p_``, ``test_f1_``) is kept apart,
    so it is not read as part of an e-mail address."""
    text = str(label)
    match = _LABEL_PREFIX.match(text)
    if match:
        return match.group(1) + mask_message(match.group(2), "hash")
    return mask_message(text, "hash")


# Containers whose keys are data (column names, class labels, metric names built from labels):
# below them no key is a machine key, whatever it is called (a column may be named ``order_id``).
DATA_CONTAINERS = frozenset({"categories", "fills", "medians", "means", "stds", "scales", "label2id",
                             "id2label", "metrics", "labels", "columns", "features"})


def _never(_: object) -> bool:
    return False


def mask_data(value: Any, operator: str = "replace", *, keys: bool = True,
              machine: Callable[[object], bool] = is_machine_key) -> Any:
    """A JSON-like structure with every text masked, every machine field kept.

    Dict keys are masked too (metrics and label maps are keyed by class labels) unless ``keys`` is
    False. A value under a machine key (``fingerprint``, ``run_id``, ...) is kept exactly as it
    is; below a data container (``categories``, ``metrics``, ...) keys are data and nothing is
    treated as a machine field.
    """
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if machine(key) and not isinstance(item, (dict, list, tuple)):
                out[key] = item
                continue
            inner = _never if str(key).lower() in DATA_CONTAINERS else machine
            new_key = mask_label(key) if keys and isinstance(key, str) else key
            out[new_key] = mask_data(item, operator, keys=keys, machine=inner)
        return out
    if isinstance(value, (list, tuple)):
        return [mask_data(v, operator, keys=keys, machine=machine) for v in value]
    if isinstance(value, str):
        return mask_message(value, operator)
    return value


def loupe_home_path() -> Path | None:
    raw = os.environ.get("LOUPE_HOME")
    home = Path(raw) if raw else Path.home() / ".local" / "share" / "loupe"
    try:
        return home.expanduser().resolve()
    except OSError:
        return None


def show_path(path: str | os.PathLike[str] | None) -> str:
    """A path for people: ``$LOUPE_HOME/runs/<id>/model`` inside the state folder, otherwise the
    masked file name. Each part is masked on its own (a folder named after a person is masked,
    a run id is not)."""
    if path is None or str(path) == "":
        return "—"
    raw = str(path)
    if parse_sample(raw) is not None:
        return mask_message(raw)
    p = Path(raw).expanduser()
    home = loupe_home_path()
    try:
        resolved = p.resolve()
    except OSError:
        resolved = p
    if home is not None and (resolved == home or home in resolved.parents):
        parts = resolved.relative_to(home).parts
        return "/".join([_HOME_ENV, *(mask_message(part) for part in parts)])
    return mask_message(p.name or raw)


def shell_path(path: str | os.PathLike[str]) -> str:
    """``show_path`` that a shell can use in a printed command: inside the state folder,
    ``$LOUPE_HOME/…`` when that variable is set, else ``~/.local/share/loupe/…`` (the default
    folder, without the user's name)."""
    shown = show_path(path)
    if shown.startswith(_HOME_ENV) and not os.environ.get("LOUPE_HOME"):
        return "~/.local/share/loupe" + shown.removeprefix(_HOME_ENV)
    return shown


def show_source(source: object) -> str:
    """A data source (``sample:name``, a file, a folder, a zip) for a card, report or terminal."""
    return show_path(str(source)) if source not in (None, "") else "—"


def mask_names(names: Iterable[object]) -> list[str]:
    return [mask_label(n) for n in names]


LABEL_COLUMNS = ("prediction", "label", "true", "predicted", "target_class", "class")


def mask_table(frame: Any, label_columns: Iterable[str] = LABEL_COLUMNS) -> Any:
    """A results table (predictions, an explanation's main table) ready to leave the process.

    Column names are masked as identifiers (``p_<EMAIL:1f0c…>``); class labels in label columns
    with the same keyed hash, so a ``prediction`` value matches its ``p_`` column; other text cells
    masked as sentences (already-masked tokens kept). Numeric columns are untouched.
    """
    import pandas as pd

    out = frame.copy()
    labels = set(label_columns)
    for col in out.columns:
        series = out[col]
        if pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series):
            continue
        fn = mask_label if str(col) in labels else mask_message
        out[col] = series.map(lambda v, fn=fn: fn(v) if isinstance(v, str) else v)
    out.columns = [mask_label(c) if isinstance(c, str) else c for c in out.columns]
    return out
