"""THE masking hook every other module calls: ``mask_text``, ``mask_tokens`` (tables:
``mask_frame``, in ``core.privacy.mask_table``, the one module of the two that needs pandas).

Privacy mode is on by default everywhere: pages, exports, explanations and the CLI pass text and
tables through these hooks unless the user has explicitly unmasked columns of a dataset (an act
recorded by ``core.store.privacy_log.record_unmask``). The operators themselves ("replace",
"partial", "hash", "drop") live in ``core.privacy.operators``.
"""

from __future__ import annotations

from collections.abc import Iterable

from core.privacy.detect import MIN_TEXT_CHARS, Finding, detect_text
from core.privacy.operators import (
    OPERATORS,
    check_operator,
    hash_token,
    mask_value,
    partial_mask,
    secret_key,
)
from core.privacy.text_cache import MASKED, MAX_TEXT_CHARS, masking_state

__all__ = ["OPERATORS", "PRIVACY_MODE_DEFAULT", "SHORTEN_MARGIN", "hash_token",
           "mask_shortened", "mask_text", "mask_texts", "mask_tokens", "mask_value", "partial_mask",
           "secret_key"]

PRIVACY_MODE_DEFAULT = True


# --- text and tokens -------------------------------------------------------------------------


def _mask_spans(text: str, findings: list[Finding], operator: str, secret: bytes | None) -> str:
    out, pos = [], 0
    for f in findings:
        out.append(text[pos:f.start])
        out.append(mask_value(text[f.start:f.end], f.entity, operator, secret))
        pos = f.end
    out.append(text[pos:])
    return "".join(out)


def _mask_text(text: str, operator: str) -> str:
    findings = detect_text(text)
    if not findings:
        return text
    return _mask_spans(text, findings, operator, secret_key() if operator == "hash" else None)


def mask_text(text: str, operator: str = "replace") -> str:
    """Mask every detected entity in free text; everything else is left byte-for-byte intact.

    A text masked before with the same operator and detection state comes from the cache in
    ``core.privacy.text_cache`` (exactly what masking it again would return).
    """
    check_operator(operator)
    if not isinstance(text, str) or len(text) < MIN_TEXT_CHARS:
        return text  # detection finds nothing in fewer characters
    state = masking_state(operator) if len(text) <= MAX_TEXT_CHARS else None
    if state is None:
        return _mask_text(text, operator)
    key = (text, state)
    masked = MASKED.get(key)
    if masked is None:
        masked = _mask_text(text, operator)
        MASKED.put(key, masked, len(text) + (0 if masked is text else len(masked)))
    return masked


def mask_texts(texts: Iterable[str], operator: str = "replace") -> list[str]:
    """``mask_text`` of each text, in order; a text repeated in ``texts`` is masked once."""
    check_operator(operator)
    done: dict[str, str] = {}
    out = []
    for text in texts:
        masked = done.get(text) if isinstance(text, str) else None
        if masked is None:
            masked = mask_text(text, operator)
            if isinstance(text, str):
                done[text] = masked
        out.append(masked)
    return out


# Longer than any entity a finder reports whole (an e-mail is at most 254 characters): scanning
# this far past a cut finds every entity that crosses it.
SHORTEN_MARGIN = 512


def mask_shortened(text: str, limit: int, operator: str = "replace") -> str:
    """The first ``limit`` characters of ``text``, masked, with "…" when something was cut.

    Shortens first, so a 1 MB text costs what its first ``limit + SHORTEN_MARGIN`` characters
    cost; an entity that crosses the cut is masked whole (the cut moves to its end), so no
    half of an e-mail or name survives the shortening.
    """
    check_operator(operator)
    if not isinstance(text, str) or len(text) <= limit:
        return mask_text(text, operator)
    head = text[:limit + SHORTEN_MARGIN]
    findings = detect_text(head)
    cut = max([limit] + [f.end for f in findings if f.start < limit < f.end])
    kept = [f for f in findings if f.start < cut]
    secret = secret_key() if operator == "hash" else None
    return _mask_spans(head[:cut], kept, operator, secret) + "…"


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
    pos = first = 0  # findings are sorted and disjoint: walk them alongside the tokens
    for tok, (piece, original, prefix, synthetic) in zip(tokens, parts, strict=True):
        start, end = pos, pos + len(piece)
        pos = end
        while first < len(findings) and findings[first].end <= start:
            first += 1
        last = first
        while last < len(findings) and findings[last].start < end:
            last += 1
        hits = findings[first:last]
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

