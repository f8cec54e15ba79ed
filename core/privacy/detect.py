"""Find personal data (PII) in free text and in table cells.

Why not Presidio (checked here, presidio-analyzer 2.2.366): ``AnalyzerEngine()`` needs a spaCy
pipeline and, offline, fails at construction while trying to download ``en_core_web_lg`` (models
cannot be fetched on Loupe's machines). Its pattern recognizers can be called one by one without a
model, but the install pulls spaCy and its stack (~390 MB), its e-mail recognizer makes tldextract
try to fetch the public-suffix list over the network, and context boosting, overlap handling and
PERSON all live in the engine we cannot build. So the detectors here are compact, validated and
tested instead: ``core.privacy.patterns`` (structured entities, each with a checksum or parser
check where one exists) and ``core.privacy.names`` (person-name cues).

Two entry points: ``detect_text`` for free text (spans), ``detect_value`` for one table cell, which
also uses what the column's name says (a bare "90210" is a postcode only in a "zip" column).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

import numpy as np

from core.privacy.names import find_names, looks_like_name
from core.privacy.patterns import FINDERS, digit_count, find_dates, luhn_ok, words

EMAIL = "EMAIL"
PHONE = "PHONE_NUMBER"
CARD = "CREDIT_CARD"
IBAN = "IBAN"
IP = "IP_ADDRESS"
URL = "URL"
SSN = "US_SSN"
DOB = "DATE_OF_BIRTH"
POSTAL = "POSTAL_CODE"
PERSON = "PERSON"

ENTITIES = (EMAIL, PHONE, CARD, IBAN, IP, URL, SSN, DOB, POSTAL, PERSON)
DIRECT_ENTITIES = frozenset({EMAIL, PHONE, CARD, IBAN, IP, SSN, PERSON})
QUASI_ENTITIES = frozenset({DOB, POSTAL, URL})


@dataclass(frozen=True, slots=True)
class Finding:
    """One detected entity in a string: type, ``text[start:end]`` span and confidence (0-1)."""

    entity: str
    start: int
    end: int
    confidence: float


def _resolve(cands: list[Finding], length: int) -> list[Finding]:
    """Keep non-overlapping findings, longest first: masking must cover the widest match.

    Taken characters are marked in a bytearray, so each candidate costs its own length in C
    (``find``/slice assignment): linear in the text for the finders' mostly disjoint matches,
    where a sorted list with inserts was quadratic on 10^5 findings.
    """
    taken = bytearray(length)
    kept: list[Finding] = []
    for f in sorted(cands, key=lambda f: (f.start - f.end, -f.confidence, f.start)):
        if taken.find(1, f.start, f.end) >= 0:
            continue
        taken[f.start:f.end] = b"\x01" * (f.end - f.start)
        kept.append(f)
    kept.sort(key=lambda f: f.start)
    return kept


MIN_TEXT_CHARS = 5  # no entity is found in a shorter text


def detect_text(text: str, entities: frozenset[str] | None = None) -> list[Finding]:
    """Every PII span in ``text``, non-overlapping, in reading order."""
    if not text or len(text) < MIN_TEXT_CHARS:
        return []
    cands: list[Finding] = []
    digits = digit_count(text)
    for finder in FINDERS:
        if digits < finder.min_digits or (entities is not None and finder.entity not in entities):
            continue
        if finder.needs(text):
            for start, end, conf in finder.find(text):
                cands.append(Finding(finder.entity, start, end, round(min(conf, 1.0), 2)))
    if entities is None or PERSON in entities:
        cands.extend(Finding(PERSON, s, e, c) for s, e, c in find_names(text))
    return _resolve(cands, len(text))


# --- column-name cues ------------------------------------------------------------------------

_COMPOUNDS = {
    "firstname": "first name", "lastname": "last name", "fullname": "full name",
    "surname": "surname", "givenname": "given name", "familyname": "family name",
    "dateofbirth": "date of birth", "birthdate": "birth date", "birthday": "birth",
    "zipcode": "zip", "postcode": "postcode", "postalcode": "postal code",
    "phonenumber": "phone", "telephone": "phone", "mobilephone": "phone", "ssn": "ssn",
    "email": "email", "emailaddress": "email", "creditcard": "card", "cardnumber": "card",
    "username": "user name", "customername": "customer name",
}  # fmt: skip
PERSON_STRONG = frozenset({"surname", "forename", "firstname", "lastname", "fullname"})
PERSON_QUALIFIERS = words(
    "first last full given family middle maiden customer patient client contact employee owner "
    "person member student mother father nick display holder cardholder account applicant "
    "recipient sender buyer seller passenger guest tenant"
)
NOT_PERSON_QUALIFIERS = words(
    "product company file dataset brand city street country model item species team host domain "
    "category class feature column table org organization business store shop project event "
    "place location job app package field variable sheet school hospital bank"
)
PERSON_WEAK = frozenset({"customer", "client", "patient", "contact", "owner", "holder"})
QUASI_CUES = {
    "age": "age", "gender": "gender", "sex": "sex", "zip": "postal code", "postcode": "postal code",
    "postal": "postal code", "birth": "birth date", "dob": "birth date", "born": "birth date",
    "job": "occupation", "occupation": "occupation", "profession": "occupation",
    "employer": "occupation", "city": "city", "town": "city", "village": "city",
    "ethnicity": "ethnicity", "ethnic": "ethnicity", "race": "ethnicity",
    "religion": "religion", "nationality": "nationality", "citizenship": "nationality",
    "marital": "marital status", "education": "education",
}  # fmt: skip


@dataclass(frozen=True)
class ColumnCues:
    """What a column's name says about its content, used to read its cells in context."""

    tokens: frozenset[str]
    person: str | None = None  # "strong", "weak" or None
    dob: bool = False
    postal: bool = False
    phone: bool = False
    ssn: bool = False
    card: bool = False
    quasi: str | None = None  # the quasi-identifier kind the name suggests ("age", "city"...)


def name_tokens(name: str) -> frozenset[str]:
    """Lower-case words of a column name: "DateOfBirth", "date_of_birth" -> {date, of, birth}."""
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", str(name))
    words = [w for w in re.split(r"[^A-Za-z0-9]+", spaced.lower()) if w]
    out: list[str] = []
    for w in words:
        out.extend(_COMPOUNDS.get(w, w).split())
    return frozenset(out + ["".join(words)])


def _person_cue(tokens: frozenset[str]) -> str | None:
    if tokens & NOT_PERSON_QUALIFIERS:
        return None
    if tokens & PERSON_STRONG or ("name" in tokens and tokens & PERSON_QUALIFIERS):
        return "strong"
    if "name" in tokens or "names" in tokens:
        return "strong"
    if tokens & PERSON_WEAK and not tokens & {"id", "number", "no", "type", "count", "segment"}:
        return "weak"
    return None


@lru_cache(maxsize=4096)
def column_cues(name: str) -> ColumnCues:
    """Cues from a column name (cached: called once per cell batch)."""
    t = name_tokens(name)
    quasi = next((QUASI_CUES[w] for w in sorted(t) if w in QUASI_CUES), None)
    return ColumnCues(
        tokens=t,
        person=_person_cue(t),
        dob=bool(t & {"birth", "dob", "born"}),
        postal=bool(t & {"zip", "postcode", "postal", "plz"}),
        phone=bool(t & {"phone", "tel", "mobile", "cell", "fax"}),
        ssn=bool(t & {"ssn"}) or {"social", "security"} <= t,
        card=bool(t & {"card", "pan"}),
        quasi=quasi,
    )


# --- one table cell --------------------------------------------------------------------------

_SEPARATORS = re.compile(r"[\s().+/-]")
_ZIP_CELL = re.compile(r"\d{5}(?:-\d{4})?|[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}|\d{4}")


def _whole(value: str, entity: str, conf: float) -> list[Finding]:
    return [Finding(entity, 0, len(value), conf)]


def _cue_findings(value: str, cues: ColumnCues) -> list[Finding]:
    """Findings that only the column name makes credible (bare ZIPs, names, 9-digit SSNs)."""
    if not (_has_entity_cue(cues) or cues.person):
        return []
    v = value.strip()
    digits = _SEPARATORS.sub("", v)
    if cues.dob:
        spans = list(find_dates(v))
        if spans and spans[0][1] - spans[0][0] >= len(v) - 1:
            return _whole(value, DOB, 0.9)
    if cues.postal and _ZIP_CELL.fullmatch(v.upper()):
        return _whole(value, POSTAL, 0.85)
    if cues.ssn and digits.isdigit() and len(digits) == 9:
        return _whole(value, SSN, 0.85)
    if cues.phone and digits.isdigit() and 7 <= len(digits) <= 15:
        return _whole(value, PHONE, 0.8)
    if cues.card and digits.isdigit() and 13 <= len(digits) <= 19 and luhn_ok(digits):
        return _whole(value, CARD, 0.9)
    if cues.person and looks_like_name(v, strict=cues.person == "weak"):
        return _whole(value, PERSON, 0.85 if cues.person == "strong" else 0.7)
    return []


def detect_value(value: object, column: str = "") -> list[Finding]:
    """PII in one cell, reading it in the context of its column's name.

    Numbers are read as their digits (an integer ZIP or phone column is still personal); a float
    is only examined in a column whose name points at an entity, since measurement columns of
    floats are the bulk of every table and never hold PII.
    """
    if isinstance(value, np.generic):
        value = value.item()  # numpy scalars (from pd.unique) read like Python ones
    if value is None or isinstance(value, bool):
        return []
    cues = column_cues(column)
    if isinstance(value, (date, np.datetime64)):  # parsed dates: personal only as birth dates
        return [Finding(DOB, 0, len(str(value)), 0.9)] if cues.dob else []
    if isinstance(value, float):
        if math.isnan(value) or not value.is_integer():
            return []
        value = int(value)
    if isinstance(value, int):
        text = str(value)
        if cues.postal and 3 <= len(text) <= 5:
            text = text.zfill(5)  # leading zeros are lost when ZIPs are read as numbers
        return _cue_findings(text, cues) if _has_entity_cue(cues) else []
    text = str(value)
    return _cue_findings(text, cues) or detect_text(text, _text_entities(cues))


_NOT_PERSON = frozenset(ENTITIES) - {PERSON}


def _text_entities(cues: ColumnCues) -> frozenset[str] | None:
    """Entities to look for in a cell: no person names in a city, product or country column."""
    if cues.person is None and (cues.quasi is not None or cues.tokens & NOT_PERSON_QUALIFIERS):
        return _NOT_PERSON
    return None


def _has_entity_cue(cues: ColumnCues) -> bool:
    return cues.dob or cues.postal or cues.ssn or cues.phone or cues.card
