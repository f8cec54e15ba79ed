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
"""

from core.privacy.anonymity import (
    KAnonymity,
    LeakWarning,
    k_anonymity,
    safe_histogram,
    suppress_small_counts,
)
from core.privacy.detect import ENTITIES, Finding, detect_text, detect_value
from core.privacy.inspection import (
    InspectionResult,
    format_inspection,
    inspect_file,
    inspect_frame,
    load_table,
)
from core.privacy.mask import (
    PRIVACY_MODE_DEFAULT,
    mask_frame,
    mask_shortened,
    mask_text,
    mask_texts,
    mask_tokens,
)
from core.privacy.operators import OPERATORS, hash_token, mask_value, partial_mask, secret_key
from core.privacy.profile import Profile, profile_frame
from core.privacy.report import (
    DIRECT,
    NONE,
    QUASI,
    ROLES,
    CellFinding,
    ColumnPII,
    ColumnReport,
    EntityStat,
    find_cells,
    fingerprint_frame,
    scan_frame,
)
from core.privacy.text_cache import clear_mask_cache

__all__ = [
    "DIRECT", "ENTITIES", "NONE", "OPERATORS", "PRIVACY_MODE_DEFAULT", "QUASI", "ROLES",
    "CellFinding", "ColumnPII", "ColumnReport", "EntityStat", "Finding", "InspectionResult",
    "KAnonymity", "LeakWarning", "Profile", "clear_mask_cache", "detect_text", "detect_value",
    "find_cells", "fingerprint_frame", "format_inspection", "hash_token", "inspect_file",
    "inspect_frame", "k_anonymity", "load_table", "mask_frame", "mask_shortened", "mask_text",
    "mask_texts", "mask_tokens", "mask_value", "partial_mask", "profile_frame", "safe_histogram",
    "scan_frame", "secret_key", "suppress_small_counts",
]
