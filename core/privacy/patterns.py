"""Structured-PII finders: regular expressions plus the checks that make them trustworthy.

Why hand-written and not Presidio: see ``core.privacy.detect``. Each finder returns
``(start, end, confidence)`` triples for one entity type. A regular expression alone over-matches
(any 16 digits look like a card), so every finder that can be validated is: payment cards by the
Luhn checksum and issuer prefix, IBANs by country length and ISO 7064 mod-97, IP addresses by the
standard library parser, dates by the calendar. Cheap pre-filters (``needs``) let the scanner skip
a finder entirely when a string cannot contain its entity, which is what keeps scanning fast.
"""

from __future__ import annotations

import bisect
import ipaddress
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date

Span = tuple[int, int, float]


def words(text: str) -> frozenset[str]:
    """A set of words written as one readable block of text."""
    return frozenset(text.split())

# --- validators ------------------------------------------------------------------------------


def luhn_ok(digits: str) -> bool:
    """True when ``digits`` passes the Luhn checksum used by every payment card."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


_CARD_PREFIX = re.compile(
    r"^(?:4|5[1-5]|2(?:2[2-9]|[3-6]\d|7[01]|720)|3[47]|3(?:0[0-5]|[68])|6(?:011|5|4[4-9])|35)"
)


def card_ok(digits: str) -> bool:
    """A plausible card: 13-19 digits, a known issuer prefix (Visa, MC, Amex, ...) and Luhn."""
    return 13 <= len(digits) <= 19 and bool(_CARD_PREFIX.match(digits)) and luhn_ok(digits)


IBAN_LENGTHS = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22,
    "BR": 29, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DK": 18, "DO": 28, "EE": 20,
    "EG": 29, "ES": 24, "FI": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23, "GL": 18,
    "GR": 27, "GT": 28, "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IS": 26, "IT": 27, "JO": 30,
    "KW": 30, "KZ": 20, "LB": 28, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "MC": 27, "MD": 24,
    "ME": 22, "MK": 19, "MR": 27, "MT": 31, "MU": 30, "NL": 18, "NO": 15, "PK": 24, "PL": 28,
    "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "SA": 24, "SE": 24, "SI": 19, "SK": 24,
    "SM": 27, "TN": 24, "TR": 26, "UA": 29, "VG": 24, "XK": 20,
}  # fmt: skip


def iban_ok(iban: str) -> bool:
    """ISO 13616: right length for the country and the mod-97 remainder equals 1."""
    iban = iban.replace(" ", "").upper()
    if IBAN_LENGTHS.get(iban[:2]) != len(iban) or not iban.isalnum():
        return False
    rearranged = iban[4:] + iban[:4]
    return int("".join(str(int(c, 36)) for c in rearranged)) % 97 == 1


def date_ok(year: int, month: int, day: int) -> bool:
    """A real calendar date in a range where a person could have been born."""
    if not 1900 <= year <= date.today().year:
        return False
    try:
        date(year, month, day)
    except ValueError:
        return False
    return True


# --- finders ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Finder:
    """One entity type: cheap pre-filters and a function yielding validated spans."""

    entity: str
    needs: Callable[[str], bool]
    find: Callable[[str], Iterator[Span]]
    min_digits: int = 0


# Linear time: a local part may start only where the previous character cannot belong to one, so a
# run of "%%%%" has one start, and giving characters back can never find the '@' (outside its class).
# (No possessive quantifiers: Python 3.10's re has none.)
_EMAIL = re.compile(r"(?<![\w.%+-])[A-Za-z0-9._%+-]+@(?:[A-Za-z0-9-]+\.)+[A-Za-z]{2,24}\b")
_URL = re.compile(r"\b(?:https?://|www\.)[^\s<>\"'`]+", re.IGNORECASE)
_IPV4 = re.compile(r"(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?!\d|\.\d)")
_IPV6 = re.compile(r"(?<![\w:.])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?![\w:])")
_CARD = re.compile(r"(?<![\d-])\d(?:[ -]?\d){12,18}(?![\d-])")
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}")
_SSN = re.compile(r"(?<![\d-])(?!000|666|9\d\d)\d{3}([- ])(?!00)\d{2}\1(?!0000)\d{4}(?![\d-])")
_SSN_CONTEXT = re.compile(r"(?i:\bssn\b|social security|\bsocial sec)")


def _regex_spans(pattern: re.Pattern[str], conf: float) -> Callable[[str], Iterator[Span]]:
    def find(text: str) -> Iterator[Span]:
        for m in pattern.finditer(text):
            yield m.start(), m.end(), conf

    return find


def _find_urls(text: str) -> Iterator[Span]:
    for m in _URL.finditer(text):
        end = m.end()
        while end > m.start() and text[end - 1] in ".,;:!?)]}'\"":
            end -= 1
        if end - m.start() > 8:
            yield m.start(), end, 0.85


def _find_ipv4(text: str) -> Iterator[Span]:
    for m in _IPV4.finditer(text):
        parts = m.group().split(".")
        if all(int(p) <= 255 and (p == "0" or not p.startswith("0")) for p in parts):
            yield m.start(), m.end(), 0.8


def _find_ipv6(text: str) -> Iterator[Span]:
    for m in _IPV6.finditer(text):
        cand = m.group()
        if sum(c.isalnum() for c in cand) < 3:
            continue
        try:
            ipaddress.IPv6Address(cand)
        except ValueError:
            continue
        yield m.start(), m.end(), 0.85


def _find_cards(text: str) -> Iterator[Span]:
    for m in _CARD.finditer(text):
        raw = m.group()
        seps = set(raw.translate(_NO_DIGITS))
        if len(seps) > 1 or "  " in raw:
            continue
        if card_ok(raw.replace(" ", "").replace("-", "")):
            yield m.start(), m.end(), 0.95


def _find_ibans(text: str) -> Iterator[Span]:
    for m in _IBAN.finditer(text):
        want = IBAN_LENGTHS.get(m.group()[:2])
        if want is None:
            continue
        # Walk exactly ``want`` alphanumerics from the start: the regex may run on into words.
        i, taken, start = m.start(), 0, m.start()
        while i < len(text) and taken < want:
            if text[i].isalnum():
                taken += 1
            elif text[i] != " " or text[i - 1] == " ":
                break
            i += 1
        ends_clean = not (i < len(text) and text[i].isalnum())
        if taken == want and ends_clean and iban_ok(text[start:i]):
            yield start, i, 0.98


def _find_ssn(text: str) -> Iterator[Span]:
    lowered = text.lower()  # substring tests in C before the case-insensitive regex
    has_context = ("ssn" in lowered or "social sec" in lowered) and bool(_SSN_CONTEXT.search(text))
    for m in _SSN.finditer(text):
        if m.group(1) == "-":
            yield m.start(), m.end(), 0.9 if has_context else 0.8
        elif has_context:
            yield m.start(), m.end(), 0.75


# Phones: international (+CC ...) first, then national formats. Validated by digit count.
# Atomic groups: each digit group is taken whole and never re-split, so a long digit run after a "+"
# costs one pass instead of every way of cutting it into six groups (exponential before). Written as
# a look-ahead captured and matched again, (?=(?P<g>X))(?P=g), which is atomic on every Python
# (possessive quantifiers need 3.11).
_PHONE_INTL = re.compile(
    r"(?<![\w+])\+(?=(?P<cc>\d{1,3}))(?P=cc)"
    r"(?=(?P<rest>(?:[ .-]?\(?(?=(?P<grp>\d{1,5}))(?P=grp)\)?){1,6}))(?P=rest)(?!\d)"
)
_PHONE_US_PAREN = re.compile(r"(?<!\w)\([2-9]\d{2}\) ?\d{3}[ .-]\d{4}(?![\d-])")
_PHONE_US_SEP = re.compile(r"(?<![\d.-])[2-9]\d{2}([.-])\d{3}\1\d{4}(?![\d-]|\.\d)")
_PHONE_US_SPACE = re.compile(r"(?<![\d.-])[2-9]\d{2} \d{3} \d{4}(?![\d-]|\.\d)")
_PHONE_FR = re.compile(r"(?<![\d.-])0[1-9]([ .-]?)\d{2}(?:\1\d{2}){3}(?![\d-]|\.\d)")
_PHONE_UK = re.compile(r"(?<![\d.-])0\d{2,4} ?\d{3,4} ?\d{3,4}(?![\d-]|\.\d)")
_PHONE_DE = re.compile(r"(?<![\d.-])0\d{2,4}[ /-]\d{4,8}(?![\d-]|\.\d)")
_PHONE_CONTEXT = re.compile(r"(?i:phone|\btel\b|tel[:.]|mobile|\bcell\b|call|fax|whatsapp)")


# National formats with their digit counts, leading 0 included (FR 10, UK 10-11, DE 9-12).
_NATIONAL = ((_PHONE_FR, 0.75, 10, 10), (_PHONE_UK, 0.7, 10, 11), (_PHONE_DE, 0.65, 9, 12))


def _digits(s: str) -> int:
    return sum(c.isdigit() for c in s)


_PHONE_HINTS = ("phone", "tel", "mobile", "cell", "call", "fax", "whatsapp")


def _find_phones(text: str) -> Iterator[Span]:
    lowered = text.lower()  # substring tests in C before the case-insensitive regex
    hinted = any(h in lowered for h in _PHONE_HINTS)
    boost = 0.1 if hinted and _PHONE_CONTEXT.search(text) else 0.0
    for m in _PHONE_INTL.finditer(text):
        if 8 <= _digits(m.group()) <= 15:
            yield m.start(), m.end(), 0.85 + boost
    for pattern, conf in ((_PHONE_US_PAREN, 0.85), (_PHONE_US_SEP, 0.75), (_PHONE_US_SPACE, 0.6)):
        for m in pattern.finditer(text):
            yield m.start(), m.end(), min(conf + boost, 0.95)
    for pattern, conf, low, high in _NATIONAL:
        for m in pattern.finditer(text):
            if low <= _digits(m.group()) <= high:
                yield m.start(), m.end(), min(conf + boost, 0.95)


# Postal codes: distinctive shapes anywhere; a bare 5-digit ZIP only after a state or a cue word.
_ZIP4 = re.compile(r"(?<![\d-])\d{5}-\d{4}(?![\d-])")
_UK_POSTCODE = re.compile(r"\b(?:[A-Z]{1,2}\d[A-Z\d]?|GIR) ?\d[ABD-HJLNP-UW-Z]{2}\b")
_US_STATES = (
    "AL|AK|AZ|AR|CA|CO|CT|DE|DC|FL|GA|HI|ID|IL|IN|IA|KS|KY|LA|ME|MD|MA|MI|MN|MS|MO|MT|NE|NV|NH|NJ|"
    "NM|NY|NC|ND|OH|OK|OR|PA|RI|SC|SD|TN|TX|UT|VT|VA|WA|WV|WI|WY"
)
_STATE_ZIP = re.compile(rf"\b(?:{_US_STATES}),? +(\d{{5}})(?![\d-])")
_CUE_ZIP = re.compile(r"(?i:\bzip(?: ?code)?|\bpost ?code|\bpostal code)\W{0,3}(\d{5})(?![\d-])")


def _find_postal(text: str) -> Iterator[Span]:
    has_upper = text != text.lower()
    if "-" in text:
        for m in _ZIP4.finditer(text):
            yield m.start(), m.end(), 0.75
    if has_upper:
        for m in _UK_POSTCODE.finditer(text):
            yield m.start(), m.end(), 0.8
        for m in _STATE_ZIP.finditer(text):
            yield m.start(1), m.end(1), 0.75
    lowered = text.lower()
    if "zip" in lowered or "post" in lowered:
        for m in _CUE_ZIP.finditer(text):
            yield m.start(1), m.end(1), 0.75


_MONTHS = (
    "jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
    "sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?|"
    "janvier|février|fevrier|mars|avril|mai|juin|juillet|août|aout|septembre|octobre|novembre|"
    "décembre|januar|februar|märz|juni|juli|oktober|dezember"
)
_MONTH_NUM = {name: i for i, name in enumerate(
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), start=1)}
_MONTH_NUM.update({"fév": 2, "fev": 2, "avr": 4, "mai": 5, "jui": 7, "aoû": 8, "aou": 8,
                   "déc": 12, "mär": 3, "okt": 10, "dez": 12})
_DATE_ISO = re.compile(r"(?<!\d)(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?!\d)")
_DATE_NUM = re.compile(r"(?<![\d/.-])(\d{1,2})([/.-])(\d{1,2})\2(\d{4}|\d{2})(?![\d/-]|\.\d)")
_DATE_DMY = re.compile(
    rf"(?i)\b(\d{{1,2}})(?:st|nd|rd|th|er|\.)?(?: of)? +({_MONTHS})\.?,? +(\d{{4}})\b")
_DATE_MDY = re.compile(rf"(?i)\b({_MONTHS})\.? +(\d{{1,2}})(?:st|nd|rd|th)?,? +(\d{{4}})\b")


def _month(name: str) -> int:
    key = name.lower()
    if key.startswith(("juin", "june", "jun")):
        return 6
    return _MONTH_NUM.get(key[:3], 0)


def _year(y: str) -> int:
    """Two-digit years are read as 19xx/20xx relative to today (a birth date is in the past)."""
    if len(y) == 4:
        return int(y)
    yy = int(y)
    return 2000 + yy if 2000 + yy <= date.today().year else 1900 + yy


def find_dates(text: str) -> Iterator[Span]:
    """Calendar-valid dates in ISO, numeric (d/m/y or m/d/y) and written-month formats."""
    for m in _DATE_ISO.finditer(text):
        if date_ok(int(m.group(1)), int(m.group(2)), int(m.group(3))):
            yield m.start(), m.end(), 0.9
    for m in _DATE_NUM.finditer(text):
        a, b, y = int(m.group(1)), int(m.group(3)), _year(m.group(4))
        if date_ok(y, b, a) or date_ok(y, a, b):
            yield m.start(), m.end(), 0.8
    for m in _DATE_DMY.finditer(text):
        if date_ok(int(m.group(3)), _month(m.group(2)), int(m.group(1))):
            yield m.start(), m.end(), 0.9
    for m in _DATE_MDY.finditer(text):
        if date_ok(int(m.group(3)), _month(m.group(1)), int(m.group(2))):
            yield m.start(), m.end(), 0.9


_BIRTH_CUE = re.compile(
    r"(?i:\bborn\b|\bbirth|\bdob\b|d\.o\.b|\bné[e]?\b|geboren|geburt|naissance|b\. ?(?=\d))")


def _find_birth_dates(text: str) -> Iterator[Span]:
    """Dates are personal only as birth dates: keep dates with a birth cue just before them."""
    cues = [m.end() for m in _BIRTH_CUE.finditer(text)]  # already sorted
    if not cues:
        return
    for start, end, conf in find_dates(text):
        i = bisect.bisect_right(cues, start)  # the nearest cue ending at or before the date
        if i and start - cues[i - 1] <= 40:
            yield start, end, conf


_NO_DIGITS = str.maketrans("", "", "0123456789")


def digit_count(text: str) -> int:
    """ASCII digits in ``text``, counted in C: the scanner's cheapest pre-filter."""
    return len(text) - len(text.translate(_NO_DIGITS))


def _always(_: str) -> bool:
    return True


_BIRTH_HINTS = ("born", "birth", "dob", "d.o.b", "né", "geb", "naiss", "b.")


def _birth_hint(text: str) -> bool:
    lowered = text.lower()
    return any(h in lowered for h in _BIRTH_HINTS)


FINDERS: tuple[Finder, ...] = (
    Finder("EMAIL", lambda t: "@" in t, _regex_spans(_EMAIL, 0.95)),
    Finder("URL", lambda t: "http" in t or "www." in t or "WWW." in t, _find_urls),
    Finder("IBAN", _always, _find_ibans, min_digits=8),
    Finder("CREDIT_CARD", _always, _find_cards, min_digits=13),
    Finder("US_SSN", _always, _find_ssn, min_digits=9),
    Finder("IP_ADDRESS", lambda t: "." in t, _find_ipv4, min_digits=4),
    Finder("IP_ADDRESS", lambda t: t.count(":") >= 2, _find_ipv6),
    Finder("PHONE_NUMBER", _always, _find_phones, min_digits=8),
    Finder("DATE_OF_BIRTH", _birth_hint, _find_birth_dates, min_digits=4),
    Finder("POSTAL_CODE", _always, _find_postal, min_digits=1),
)
