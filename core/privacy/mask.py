"""Masking operators and THE masking hook every other module calls.

Privacy mode is on by default everywhere: pages, exports, explanations and the CLI pass text and
tables through ``mask_text`` / ``mask_frame`` / ``mask_tokens`` unless the user has explicitly
unmasked columns of a dataset (an act recorded by ``core.store.privacy_log.record_unmask``).

Operators:
- ``replace``: the entity type, ``<EMAIL>``.
- ``partial``: keep a few characters so a person can tell values apart (``j***@e***.com``,
  ``**** **** **** 1234``); lengths of free parts are hidden behind a fixed ``***``.
- ``hash``: ``<EMAIL:1f0c...>``, an HMAC-SHA256 keyed with a per-install secret. Equal values give
  equal tokens (joins and counts still work), and without the secret a token cannot be reversed
  or confirmed by hashing guesses, which a plain SHA-256 of an e-mail would allow.
- ``drop``: remove the value (a whole column in tables, the span in text).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
import time
from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from core.errors import LoupeError, suggest
from core.paths import loupe_home
from core.privacy.detect import (
    CARD,
    DOB,
    EMAIL,
    IBAN,
    IP,
    PERSON,
    PHONE,
    POSTAL,
    SSN,
    URL,
    detect_text,
    detect_value,
)
from core.privacy.report import DIRECT, NONE, ColumnPII, ColumnReport, scan_frame

OPERATORS = ("replace", "partial", "hash", "drop")
PRIVACY_MODE_DEFAULT = True
SECRET_FILE = "secret.key"
_FALLBACK_LABEL = "REDACTED"


def check_operator(operator: str) -> str:
    if operator not in OPERATORS:
        raise LoupeError(f"Unknown masking operator {operator!r}.", suggest(operator, OPERATORS))
    return operator


# --- the per-install secret ------------------------------------------------------------------


_SECRETS: dict[Path, bytes] = {}


def secret_key(home: Path | None = None) -> bytes:
    """The install's HMAC key, created on first use as ``secret.key`` with 0600 permissions.

    Created with O_EXCL so two processes starting at once agree on one key (the loser reads the
    winner's file). The key never leaves the machine; deleting it changes every hash token.
    """
    path = (home or loupe_home()) / SECRET_FILE
    cached = _SECRETS.get(path)
    if cached is not None and path.exists():
        return cached
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        key = _read_key(path)
    else:
        key = secrets.token_bytes(32)
        with os.fdopen(fd, "wb") as fh:
            fh.write(key.hex().encode())
    _SECRETS[path] = key
    return key


def _read_key(path: Path) -> bytes:
    for _ in range(50):  # another process may be between create and write
        raw = path.read_bytes().strip()
        if raw:
            try:
                return bytes.fromhex(raw.decode())
            except ValueError:
                break
        time.sleep(0.02)
    raise LoupeError(f"The masking secret {path} is empty or corrupt.",
                     f"Delete {path} to create a new one (hash tokens will change).")


# --- one value -------------------------------------------------------------------------------


def _normalise(value: str, entity: str) -> str:
    """Canonical form before hashing, so "+1 555-123-4567" and "+15551234567" agree."""
    v = value.strip()
    if entity in (PHONE, CARD, SSN):
        return ("+" if v.startswith("+") else "") + re.sub(r"\D", "", v)
    if entity in (IBAN, POSTAL):
        return re.sub(r"\s", "", v).upper()
    if entity in (EMAIL, URL, IP):
        return v.lower()
    return " ".join(v.split()).casefold()


def hash_token(value: str, entity: str, secret: bytes | None = None) -> str:
    """Keyed, irreversible token: ``<EMAIL:16 hex>``. Same value + same secret -> same token."""
    key = secret if secret is not None else secret_key()
    digest = hmac.new(key, _normalise(value, entity).encode(), hashlib.sha256).hexdigest()
    return f"<{entity}:{digest[:16]}>"


def _star_alnum(s: str, keep: set[int]) -> str:
    return "".join(c if (i in keep or not c.isalnum()) else "*" for i, c in enumerate(s))


def _keep_last_digits(s: str, n: int) -> str:
    pos = [i for i, c in enumerate(s) if c.isdigit()]
    return _star_alnum(s, set(pos[-n:]) | {i for i, c in enumerate(s) if c == "+"})


def _partial_email(v: str) -> str:
    local, _, domain = v.partition("@")
    host, _, tld = domain.rpartition(".")
    return f"{local[:1]}***@{host[:1]}***.{tld}" if host else f"{local[:1]}***@***"


def _partial_url(v: str) -> str:
    m = re.match(r"(?i)(https?://|www\.)?([^/?#]*)(.*)", v)
    scheme, host, rest = m.group(1) or "", m.group(2), m.group(3)
    tld = host.rpartition(".")[2] if "." in host else ""
    return f"{scheme}{host[:1]}***{'.' + tld if tld else ''}{'/***' if rest.strip('/') else ''}"


def _partial_ip(v: str) -> str:
    if "." in v and ":" not in v:
        return v.split(".")[0] + ".*.*.*"
    return v.split(":")[0] + ":****"


def _partial_dob(v: str) -> str:
    m = re.search(r"(?<!\d)(19|20)\d{2}(?!\d)", v)
    keep = set(range(m.start(), m.end())) if m else set()
    return _star_alnum(v, keep)


def partial_mask(value: str, entity: str) -> str:
    """Keep just enough to tell values apart: last card digits, e-mail initials, year of birth."""
    v = value.strip()
    if entity == EMAIL:
        return _partial_email(v)
    if entity == CARD:
        return _keep_last_digits(v, 4)
    if entity in (SSN, PHONE):
        return _keep_last_digits(v, 4 if entity == SSN else 2)
    if entity == IBAN:
        compact = [i for i, c in enumerate(v) if c.isalnum()]
        return _star_alnum(v, set(compact[:2]) | set(compact[-4:]))
    if entity == IP:
        return _partial_ip(v)
    if entity == URL:
        return _partial_url(v)
    if entity == DOB:
        return _partial_dob(v)
    if entity == POSTAL:
        return v[:2] + _star_alnum(v[2:], set())
    if entity == PERSON:
        return " ".join(w[:1] + "***" for w in v.split())
    return v[:1] + "***"


def mask_value(value: str, entity: str, operator: str, secret: bytes | None = None) -> str:
    """Apply one operator to one detected value."""
    if operator == "replace":
        return f"<{entity}>"
    if operator == "partial":
        return partial_mask(value, entity)
    if operator == "hash":
        return hash_token(value, entity, secret)
    return ""


# --- text and tokens -------------------------------------------------------------------------


def _mask_spans(text: str, findings: list, operator: str, secret: bytes | None) -> str:
    out, pos = [], 0
    for f in findings:
        out.append(text[pos:f.start])
        out.append(mask_value(text[f.start:f.end], f.entity, operator, secret))
        pos = f.end
    out.append(text[pos:])
    return "".join(out)


def mask_text(text: str, operator: str = "replace") -> str:
    """Mask every detected entity in free text; everything else is left byte-for-byte intact."""
    check_operator(operator)
    if not isinstance(text, str) or not text:
        return text
    findings = detect_text(text)
    if not findings:
        return text
    return _mask_spans(text, findings, operator, secret_key() if operator == "hash" else None)


_MARKERS = ("##", "\u0120", "\u2581")  # WordPiece, byte-level BPE, SentencePiece
_GLUE = set("@.-_/:+()#%&=?~")


def _token_text(tokens: list[str]) -> list[tuple[str, str, str, int]]:
    """How each token contributes to the joined text: ``(piece, original, prefix, synthetic)``.

    Tokenizers that keep whitespace (SHAP's offset-based tokens, BPE's Ġ, SentencePiece's ▁)
    are concatenated as is, markers read as spaces. Otherwise tokens are words: they are
    re-spaced except around glue characters, so ["john", "@", "example", ".", "com"] reads as one
    e-mail address again, and WordPiece "##" pieces glue to the previous token (the "##" is kept
    as ``prefix``). An added space is ``synthetic`` (1) and never appears in the output.
    """
    if any(t[:1].isspace() or t[-1:].isspace() or t.startswith(_MARKERS[1:]) for t in tokens):
        return [(t.replace("\u0120", " ").replace("\u2581", " "), t, "", 0) for t in tokens]
    out = []
    for i, t in enumerate(tokens):
        if t.startswith("##"):
            out.append((t[2:], t[2:], "##", 0))
            continue
        prev = tokens[i - 1] if i else ""
        glued = not prev or not t or prev[-1] in _GLUE or t[0] in _GLUE
        out.append((t, t, "", 0) if glued else (" " + t, t, "", 1))
    return out


def mask_tokens(tokens: list[str]) -> list[str]:
    """Mask tokens that belong to a PII span once the tokens are joined (same length out).

    The first token of a span carries the replacement label; the span's characters in later
    tokens are removed (those tokens become empty or keep only their non-PII characters), so a
    SHAP view keeps one attribution slot per original token while showing no personal data.
    """
    parts = _token_text(list(tokens))
    text = "".join(p[0] for p in parts)
    findings = detect_text(text)
    if not findings:
        return list(tokens)
    out: list[str] = []
    pos = 0
    for tok, (piece, original, prefix, synthetic) in zip(tokens, parts, strict=True):
        start, end = pos, pos + len(piece)
        pos = end
        hits = [f for f in findings if f.start < end and f.end > start]
        if not hits:
            out.append(tok)
            continue
        chars = [prefix]
        for i in range(start + synthetic, end):
            f = next((h for h in hits if h.start <= i < h.end), None)
            if f is None:
                chars.append(original[i - start - synthetic])
            elif i == f.start:
                chars.append(f"<{f.entity}>")
        out.append("".join(chars))
    return out


# --- tables ----------------------------------------------------------------------------------


def _uniform_entity(col: ColumnPII) -> str | None:
    """The one entity type of a value column where (nearly) every value is that entity.

    Such a column is masked cell by cell without re-running detection: a ZIP column is all
    ZIPs, and the few stragglers ("unknown") lose nothing by being masked too. This is what
    keeps masking every row of a large table fast.
    """
    if col.kind != "value" or len(col.entities) != 1:
        return None
    stat = col.entities[0]
    return stat.entity if stat.cells >= 0.8 * max(col.values_scanned, 1) else None


def _mask_cell(value: object, col: ColumnPII, operator: str, secret: bytes | None) -> object:
    """Mask one cell: detected spans, or the whole cell in a direct-identifier value column."""
    text = str(value)
    uniform = _uniform_entity(col)
    if uniform is not None:
        return mask_value(text, uniform, operator, secret)
    findings = detect_value(value, col.name)
    whole = col.role == DIRECT and col.kind == "value"
    if whole:
        if len(findings) == 1 and findings[0].end - findings[0].start >= len(text.strip()):
            return mask_value(text, findings[0].entity, operator, secret)
        return mask_value(text, col.primary_entity or _FALLBACK_LABEL, operator, secret)
    if not findings:
        return value
    return _mask_spans(text, findings, operator, secret)


def _needs_masking(col: ColumnPII) -> bool:
    """Direct identifiers always; other columns only where entities were detected."""
    if col.role == NONE and col.role_source == "override":
        return False
    return col.role == DIRECT or bool(col.entities)


def mask_frame(
    df: pd.DataFrame,
    report: ColumnReport | None = None,
    operator: str = "replace",
    unmasked_columns: Iterable[str] = (),
) -> pd.DataFrame:
    """A masked copy of ``df``: detected cells masked, direct-identifier columns fully masked.

    Every row is masked (the report may come from a sample, masking never does). Columns in
    ``unmasked_columns`` are returned as they are: pass only columns the user unmasked through
    ``record_unmask``. Quasi-identifiers found only by column name (age, gender) stay readable:
    they are needed for modelling, and k-anonymity reports their risk instead.
    """
    check_operator(operator)
    report = report if report is not None else scan_frame(df)
    keep = {str(c) for c in unmasked_columns}
    secret = secret_key() if operator == "hash" else None
    out = df.copy()
    labels = {str(c): c for c in out.columns}  # the report names columns as text
    for col in report.columns:
        label = labels.get(col.name)
        if col.name in keep or label is None or not _needs_masking(col):
            continue
        if operator == "drop" and col.kind == "value":
            out = out.drop(columns=label)
            continue
        out[label] = _mask_series(out[label], col, operator, secret)
    return out


def _mask_series(series: pd.Series, col: ColumnPII, operator: str,
                 secret: bytes | None) -> pd.Series:
    """Mask each distinct value once and map the results back onto the column."""
    values = series.astype(object)
    try:
        distinct = pd.unique(values.dropna())
    except TypeError:  # unhashable cells: mask their text form
        values = values.map(lambda v: v if v is None else str(v))
        distinct = pd.unique(values.dropna())
    mapping = {v: _mask_cell(v, col, operator, secret) for v in distinct}
    return values.map(lambda v: mapping.get(v, v) if v is not None else v)
