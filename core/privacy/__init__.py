"""Privacy: find personal data, mask it, measure re-identification risk.

The masking hook every other module calls (privacy mode is on by default):

    mask_text(text, operator="replace") -> str
    mask_shortened(text, limit, operator="replace") -> str   (cut first, then mask: long texts)
    mask_frame(df, report=None, operator="replace", unmasked_columns=()) -> DataFrame
    mask_tokens(tokens) -> list[str]
    mask_texts(texts) -> list[str]   (many texts; each distinct text masked once)

Masked texts are cached in memory (``core.privacy.text_cache``; ``clear_mask_cache()`` empties it).

Operators: "replace" (<EMAIL>), "partial" (j***@e***.com), "hash" (keyed HMAC token), "drop".
Unmasking is an audited act: ``core.store.privacy_log.record_unmask`` then pass
``unmasked_columns(store, fingerprint)`` to ``mask_frame``. Figures live in
``core.privacy.figures`` (plotly, imported on demand).

Each name is imported from its module on first use (``__getattr__``): a command that masks a
sentence (``loupe runs``) loads the text detectors, never pandas or the table scanners.
"""

from __future__ import annotations

import importlib

# module (under core.privacy) -> the names it gives this package
_EXPORTS: dict[str, tuple[str, ...]] = {
    "anonymity": ("KAnonymity", "LeakWarning", "k_anonymity", "safe_histogram", "suppress_small_counts"),
    "detect": ("ENTITIES", "Finding", "detect_text", "detect_value"),
    "inspection": ("InspectionResult", "format_inspection", "inspect_file", "inspect_frame", "load_table"),
    "mask": ("PRIVACY_MODE_DEFAULT", "mask_shortened", "mask_text", "mask_texts", "mask_tokens"),
    "operators": ("OPERATORS", "hash_token", "mask_value", "partial_mask", "secret_key"),
    "profile": ("Profile", "profile_frame"),
    "report": ("DIRECT", "NONE", "QUASI", "ROLES", "CellFinding", "ColumnPII", "ColumnReport",
               "EntityStat", "find_cells", "fingerprint_frame", "scan_frame"),
    "text_cache": ("clear_mask_cache",),
    "mask_table": ("mask_frame",),
}
_HOME = {name: module for module, names in _EXPORTS.items() for name in names}

__all__ = sorted(_HOME)


def __getattr__(name: str) -> object:
    module = _HOME.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_HOME})

