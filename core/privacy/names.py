"""Person names in free text and in name-like cells.

Two sources of evidence, combined (a span found by either is masked):

1. Cues a person would also use: an honorific ("Dr Okafor"), a self-introduction ("my name is
   Ana Ruiz"), a greeting or sign-off ("Dear Tom Baker,"), or a capitalised pair whose first word
   is a common first name ("Maria Schmidt").
2. The name lexicon (``core.privacy.name_lexicon``: given names and surnames of 122 countries,
   with how common each word is in English). A word is an *anchor* when it is a known name and
   rare enough as an English word for where it stands: anywhere and in any casing when it is
   rare in English ("rasmus", "Kowalczyk"); capitalised mid-sentence up to the frequency of
   "Maria" or "Carter"; at the start of a sentence only when it is also a name in many countries.
   Neighbouring name words (and surnames the lexicon lacks, when they are no English word) join
   an anchor's span: "Mateus Kowalczyk", "Pieter van der Merwe".

Everyday words that are also names ("Will", "May", "Hope", "Bill", "Mark" as a verb) are not
anchors; capitalised mid-sentence, the very common international given names are ("told Mark").
Capitalised place names that are also names (Paris, Florence, Jordan) may be masked: a
deliberate trade for recall, documented in docs/benchmarks.md.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from core.privacy.name_lexicon import GIVEN, NOT_FOUND, Entry, NameLexicon, fold, lexicon
from core.privacy.patterns import Span, words

FIRST_NAMES = words(
    """
    aaron abdul adam adrian ahmed aisha alan albert alejandro alex alexander alexandra alice
    alicia alison amanda amelia amir amy ana andrea andreas andrew andy angela anna anne annie
    anthony antoine antonio arjun arthur ashley barbara ben benjamin bernard beth betty brian
    bruno camille carl carla carlos carmen caroline catherine charles charlie charlotte chen
    chloe chris christian christina christine christopher claire clara claude daniel david
    deborah denise dennis diana diego dmitri donald dorothy edward elena elizabeth ella emily
    emma eric erik ethan eva fatima felix fernando fiona florian francesca francis francisco
    frank françois frederick gabriel gary george georgia gerald greg gregory hannah hans harry
    heather helen henry hugo ian igor isabel isabella isabelle ivan jacob james jamie jane
    janet jason javier jean jeffrey jennifer jeremy jessica jim joan joe johann johannes john
    jonathan jorge jose joseph joshua juan judith julia julian julie juliette justin karen karl
    kate katherine kathleen keith kevin kim klaus laura lauren laurent leila leo leon liam
    linda lisa lucas lucia lucy luis luka lukas magdalena manuel marc marco margaret maria
    marie marina mario martin mary matthew matthias maximilian megan mei melissa michael
    michelle miguel mohammed muhammad nancy natalia natalie nathan nicholas nicolas nicole nina
    noah nora olga oliver olivia omar oscar pablo pamela patricia patrick paul paula peter
    philip philippe pierre priya rachel rahul raj ramon rebecca richard robert roberto ryan
    samantha samuel sandra sara sarah sebastian sergei sharon sophia sophie stefan stephanie
    stephen steven susan sven thomas timothy tom tomas valentina vanessa victor victoria
    vincent walter wei william xavier yuki yusuf zoe
    """
)

# Second words that show a capitalised pair is a place, organisation or thing, not a surname.
NOT_SURNAMES = words(
    """
    street st road rd avenue ave lane boulevard drive park square place court way hall house
    hospital school college university church bridge station airport river lake bay hill
    county city town center centre street inc ltd llc corp company group bank foundation
    monday tuesday wednesday thursday friday saturday sunday january february march april
    june july august september october november december
    """
)

_WORD = r"[A-Z][a-z\u00e0-\u00ff]++(?:[-'\u2019][A-Z]?[a-z\u00e0-\u00ff]++)?+"
_PARTICLE = r"(?:(?:van|von|de|del|della|da|di|dos|das|le|la|der|den|du|bin|al|ter)\s+){0,2}"
_NAME = rf"{_WORD}(?:\s+{_PARTICLE}{_WORD}){{0,2}}"
_HONORIFIC = re.compile(
    rf"\b(?:(?:Mr|Mrs|Ms|Miss|Mx|Dr|Prof|Sir|Dame|Mme|Mlle|Herr|Frau|Sra|Sr)\.?|M\.)\s+({_NAME})"
)
_INTRO_CUES = (
    "my name is|my name's|i am called|i'm called|name is|name:|signed|regards,|sincerely,|"
    "thanks,|dear|written by|posted by|reviewed by|submitted by|contact person:?|"
    "je m'appelle|ich hei(?:ss|\u00df)e|me llamo"
)
_INTRO = re.compile(rf"(?:\b(?i:{_INTRO_CUES}))[,:]?\s+({_NAME})")
# A lookahead so that overlapping pairs are all tried ("Then Maria Schmidt" -> "Maria Schmidt").
_PAIR = re.compile(rf"\b(?=([A-Z][a-z\u00e0-\u00ff]++)\s++({_PARTICLE}{_WORD}))")


def _trim_name(text: str, start: int, end: int) -> int:
    """End the span before a trailing word that marks a place ("Anna Lee Street")."""
    words = text[start:end].split()
    while len(words) > 1 and words[-1].lower() in NOT_SURNAMES:
        words.pop()
    return start + len(" ".join(words)) if words else end


def find_names(text: str) -> Iterator[Span]:
    """Spans of person names: honorifics, introductions, first-name pairs and the name lexicon."""
    yield from find_lexicon_names(text)
    if text == text.lower():
        return  # the cue patterns below all need capitals
    for pattern, conf in ((_HONORIFIC, 0.85), (_INTRO, 0.8)):
        for m in pattern.finditer(text):
            yield m.start(1), _trim_name(text, m.start(1), m.end(1)), conf
    for m in _PAIR.finditer(text):
        first, second = m.group(1), m.group(2).split()[-1]
        if first.lower() in FIRST_NAMES and second.lower() not in NOT_SURNAMES:
            yield m.start(1), m.end(2), 0.7


def looks_like_name(value: str, strict: bool) -> bool:
    """Whether a whole cell reads as a person's name ("Ana Ruiz", "Ruiz, Ana", "o'neil").

    ``strict`` is used for weak column cues ("customer"): then a known first name or two
    capitalised words are required, so category values like "Returning" are not taken as names.
    """
    words = [w for w in re.split(r"[\s,]+", value.strip()) if w]
    if not 1 <= len(words) <= 4 or len(value) > 60:
        return False
    letters_ok = all(re.fullmatch(r"[^\W\d_]+(?:[.'\u2019-][^\W\d_]*)*\.?", w) for w in words)
    if not letters_ok:
        return False
    if not strict:
        return True
    capitalised = sum(w[0].isupper() for w in words)
    known = any(w.lower().strip(".") in FIRST_NAMES for w in words)
    return known or (capitalised >= 2 and capitalised == len(words))


# --- the name lexicon ------------------------------------------------------------------------

# Letters, with inner hyphens/apostrophes ("Min-jun", "O'Sullivan"); possessive: linear time.
_TOKEN = re.compile(r"[^\W\d_]++(?:['\u2019-][^\W\d_]++)*+")
_SENTENCE_BREAK = re.compile(r"[.!?;:\n\"\u201c(\[\u2022*]")
_JOIN_GAP = re.compile(r"[ \t]{1,3}|[ \t]?[-,][ \t]?")
PARTICLES = words("van von de der den da di del della dos das du la le bin ibn al el ben abu ter ten")
_PREFIXES = words("al el o d mc mac ben bin abu ibn")
MAX_RUN = 5  # words in one name

# Thresholds on the English Zipf frequency (wordfreq: 3 = once per million words), chosen on the
# development list (tests/core/fixtures/dev_names.py) and never on the held-out list.
ANY_CASE_ZIPF = 3.1  # "rasmus" 2.6, "kowalczyk" 1.9: a name wherever and however it is written
ANY_CASE_SHARED_ZIPF, ANY_CASE_SHARED_COUNTRIES = 3.5, 2  # "bertrand" 3.2, a name in 8 countries
CAPITAL_ZIPF = 4.5  # capitalised mid-sentence: "Maria" 4.3, "Carter" 4.4; not "Grace" 4.6
COMMON_GIVEN_ZIPF, COMMON_GIVEN_COUNTRIES = 5.5, 30  # capitalised mid-sentence "David", "Mark"
INITIAL_COUNTRIES = 10  # sentence-initial: "Maria said" yes, "Farmer" (2 countries) no
JOIN_ZIPF_MIXED, JOIN_ZIPF_FLAT = 6.0, 4.0  # a name word joining an anchor's span
NOT_ENGLISH_ZIPF = 2.0  # a capitalised word this rare in English joins an anchor as a surname


def _entry(lex: NameLexicon, word: str) -> Entry:
    key = fold(word)
    entry = lex.get(key)
    if entry.is_name or ("-" not in key and "'" not in key):
        return entry
    joined = lex.get(key.replace("-", "").replace("'", ""))
    if joined.is_name:
        return joined
    parts = [p for p in re.split(r"['-]", key) if p]
    found = [lex.get(p) for p in parts]
    names = [e for e, p in zip(found, parts, strict=True) if e.is_name or p in _PREFIXES]
    if len(names) < len(parts) or not any(e.is_name for e in found):
        return NOT_FOUND  # "follow-up", "e-mail": not every part is a name
    return Entry(min(e.zipf for e in found), max(e.countries for e in found),
                 max(e.kinds for e in found))


def _is_anchor(e: Entry, word: str, capital: bool, initial: bool) -> bool:
    if not e.is_name or len(word) < 2:
        return False
    if capital and not initial:
        common_given = e.countries >= COMMON_GIVEN_COUNTRIES and e.kinds & GIVEN
        return e.zipf < CAPITAL_ZIPF or bool(common_given and e.zipf < COMMON_GIVEN_ZIPF)
    if capital and e.zipf < CAPITAL_ZIPF and e.countries >= INITIAL_COUNTRIES:
        return True  # first word of a sentence: capitals say little, "Maria" still counts
    if len(word) < 3:
        return False
    return e.zipf < ANY_CASE_ZIPF or (e.zipf < ANY_CASE_SHARED_ZIPF
                                      and e.countries >= ANY_CASE_SHARED_COUNTRIES)


def _pair_anchor(a: Entry, b: Entry) -> bool:
    """Two name words side by side, neither common in English, one a given name: "CONNOR WALSH"."""
    return (a.is_name and b.is_name and a.zipf < CAPITAL_ZIPF and b.zipf < CAPITAL_ZIPF
            and bool((a.kinds | b.kinds) & GIVEN))


def _place_follows(text: str, toks: list[tuple[int, int, str]], i: int) -> bool:
    return i + 1 < len(toks) and toks[i + 1][2].lower() in NOT_SURNAMES and _linked(text, toks, i)


def _joins(e: Entry, word: str, mixed: bool) -> bool:
    if word.lower() in NOT_SURNAMES:
        return False
    if mixed:
        if not word[0].isupper():
            return False
        return (e.is_name and e.zipf < JOIN_ZIPF_MIXED) or e.zipf < NOT_ENGLISH_ZIPF
    return (e.is_name and e.zipf < JOIN_ZIPF_FLAT) or e.zipf < NOT_ENGLISH_ZIPF


def find_lexicon_names(text: str) -> Iterator[Span]:
    """Runs of name words around an anchor (see the module docstring). Linear in ``len(text)``."""
    lex = lexicon()
    if lex is None:
        return
    mixed = text != text.lower() and text != text.upper()  # flat text: casing says nothing
    toks = [(m.start(), m.end(), m.group()) for m in _TOKEN.finditer(text)]
    anchors: list[bool] = []
    joinable: list[bool] = []
    entries = [_entry(lex, w) for _s, _e, w in toks]
    for i, (start, _end, word) in enumerate(toks):
        e = entries[i]
        gap = text[toks[i - 1][1]:start] if i else text[:start]
        initial = i == 0 or bool(_SENTENCE_BREAK.search(gap))
        capital = mixed and word[0].isupper()
        acronym = mixed and len(word) > 1 and word.isupper()  # "IBAN", "USA" in mixed text
        anchors.append(not acronym and _is_anchor(e, word, capital, initial))
        joinable.append(_joins(e, word, mixed) or word.lower() in PARTICLES)
    for i in range(len(toks) - 1):
        if _pair_anchor(entries[i], entries[i + 1]) and _linked(text, toks, i) \
                and (not mixed or toks[i][2][0].isupper() and toks[i + 1][2][0].isupper()):
            anchors[i] = anchors[i + 1] = True
    i = 0
    while i < len(toks):
        if not anchors[i]:
            i += 1
            continue
        lo = hi = i
        while lo > 0 and hi - lo < MAX_RUN - 1 and _linked(text, toks, lo - 1) \
                and joinable[lo - 1] and toks[lo - 1][2] not in PARTICLES:
            lo -= 1
        while hi + 1 < len(toks) and hi - lo < MAX_RUN - 1 and _linked(text, toks, hi) \
                and (joinable[hi + 1] or anchors[hi + 1] or _after_particle(toks, hi, lex)):
            hi += 1
        while hi > i and toks[hi][2].lower() in PARTICLES:  # "Anna de" -> "Anna"
            hi -= 1
        if not _place_follows(text, toks, hi):  # "Grace Street", "Carter Hospital"
            yield toks[lo][0], toks[hi][1], 0.75
        i = hi + 1


def _linked(text: str, toks: list[tuple[int, int, str]], i: int) -> bool:
    """Whether word ``i`` and word ``i + 1`` are separated only by a space or a hyphen."""
    return _JOIN_GAP.fullmatch(text, toks[i][1], toks[i + 1][0]) is not None


def _after_particle(toks: list[tuple[int, int, str]], i: int, lex: NameLexicon) -> bool:
    """A capitalised, not-everyday word after "van der", "de", "bin": "de Vries", "van der Merwe"."""
    word = toks[i + 1][2]
    return (toks[i][2].lower() in PARTICLES and word[0].isupper()
            and _entry(lex, word).zipf < JOIN_ZIPF_FLAT)
