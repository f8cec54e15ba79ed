"""Masking operators on one value, and the per-install secret behind the keyed hash.

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
from pathlib import Path

from core.errors import LoupeError, suggest
from core.paths import loupe_home
from core.privacy.detect import CARD, DOB, EMAIL, IBAN, IP, PERSON, PHONE, POSTAL, SSN, URL

OPERATORS = ("replace", "partial", "hash", "drop")
SECRET_FILE = "secret.key"


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
        if os.stat(path).st_mode & 0o077:  # copied or restored with loose permissions
            os.chmod(path, 0o600)
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


