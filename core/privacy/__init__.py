"""Privacy: find personal data, mask it, measure re-identification risk.

The masking hook every other module calls (privacy mode is on by default):

    mask_text(text, operator="replace") -> str
    mask_frame(df, report=None, operator="replace", unmasked_columns=()) -> DataFrame
    mask_tokens(tokens) -> list[str]

Operators: "replace" (<EMAIL>), "partial" (j***@e***.com), "hash" (keyed HMAC token), "drop".
"""

from core.privacy.detect import ENTITIES, Finding, detect_text, detect_value
from core.privacy.mask import (
    OPERATORS,
    PRIVACY_MODE_DEFAULT,
    hash_token,
    mask_frame,
    mask_text,
    mask_tokens,
    partial_mask,
    secret_key,
)
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

__all__ = [
    "DIRECT", "ENTITIES", "NONE", "OPERATORS", "PRIVACY_MODE_DEFAULT", "QUASI", "ROLES",
    "CellFinding", "ColumnPII", "ColumnReport", "EntityStat", "Finding", "detect_text",
    "detect_value", "find_cells", "fingerprint_frame", "hash_token", "mask_frame", "mask_text",
    "mask_tokens", "partial_mask", "scan_frame", "secret_key",
]
