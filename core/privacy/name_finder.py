"""Person names in free text found with the name lexicon (``core.privacy.name_lexicon``).

A word is an *anchor* when it is a known given name or surname (122 countries) and rare enough as
an English word for where it stands:

- anywhere and in any casing when it is rare in English ("rasmus", "Kowalczyk", "BERTRAND");
- capitalised mid-sentence up to the English frequency of "Maria" or "Carter", and the very
  common international given names ("told David", "asked Mark");
- at the start of a sentence only when it is also a name in many countries ("Maria said").

Two name words side by side that are both uncommon in English, one a given name, anchor each
other ("CONNOR WALSH"). Neighbouring name words, particles ("van der", "de", "bin") and surnames
the lexicon lacks (capitalised words that are no English word) join an anchor's span, up to
five words: "Mateus Kowalczyk", "Pieter van der Merwe". A span followed by "Street", "Hospital"
and the like is a place and is left alone; all-capital words inside mixed-case text are
acronyms ("IBAN", "USA").

A person cue beside a word also makes it an anchor when it is a name no more common in English
than "Maria", or no English word at all: "call bertrand", "Etxeberria signed for it".

Everyday words that are also names ("Will", "May", "Hope", "Bill", "mark the box") are never
anchors. Capitalised places that are also names ("Paris", "Florence", "Berlin") may be masked:
a deliberate trade for recall, measured in docs/benchmarks.md.

Cost: one regular-expression pass for the words, a set look-up per word, and the rules above only
for the few words that are names; linear in the length of the text.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from itertools import accumulate, compress, repeat

from core.privacy.name_lexicon import GIVEN, NOT_FOUND, Entry, NameLexicon, fold, lexicon
from core.privacy.patterns import Span, words

# Letters, with inner hyphens/apostrophes ("Min-jun", "O'Sullivan"). Linear time without possessive
# quantifiers (3.10 has none): the separators are outside the letter class and a split never fails.
_TOKEN = r"[^\W\d_]+(?:['\u2019-][^\W\d_]+)*"
_SPLIT = re.compile(f"({_TOKEN})")
_BREAKS = frozenset(".!?;:\n\"\u201c([\u2022*")
_JOIN_GAPS = frozenset({" ", "  ", "   ", "\t", "-", " -", "- ", " - ", ",", ", ", " ,"})
PARTICLES = words("van von de der den da di del della dos das du la le bin ibn al el ben abu ter ten")
_PREFIXES = words("al el o d mc mac ben bin abu ibn")
# Words after a name that show it is a place, organisation or date, not a person.
NOT_SURNAMES = words(
    """
    street st road rd avenue ave lane boulevard drive park square place court way hall house
    hospital school college university church bridge station airport river lake bay hill
    county city town center centre street inc ltd llc corp company group bank foundation
    monday tuesday wednesday thursday friday saturday sunday january february march april
    june july august september october november december
    """
)
MAX_RUN = 5  # words in one name
MAX_NAME_CHARS = 24  # longer unknown words are never taken for a surname
# Words that put a person right before them ("X said") or right after them ("call X"): with
# one, a name word up to CUE_ZIPF, or a word that is no English word at all, is an anchor.
AFTER_PERSON = words(
    "said says signed asked asks called calls wrote writes replied replies confirmed confirms "
    "told tells mentioned emailed phoned complained complains reported agreed refused wants "
    "wanted promised explained insisted thinks thought noticed paid picked"
)
BEFORE_PERSON = words("call ask tell told thank thanks dear hi hello contact cc remind email "
                      "phone ring text message inform notify")
CUE_ZIPF = 4.5
# How data and messages spell missing or special values, exactly as written: "NaN" is never a
# person, while "Nan" (a given name) still is.
DATA_SPELLINGS = frozenset({"NaN", "nan", "NAN", "null", "NULL", "Null", "inf", "Inf", "INF", "NA"})

# Thresholds on the English Zipf frequency (wordfreq: 3 = once per million words), chosen on the
# development list (tests/core/fixtures/dev_names.py) and never on the held-out list.
ANY_CASE_ZIPF = 3.1  # "rasmus" 2.6, "kowalczyk" 1.9: a name wherever and however it is written
ANY_CASE_SHARED_ZIPF, ANY_CASE_SHARED_COUNTRIES = 3.5, 2  # "bertrand" 3.2, a name in 8 countries
CAPITAL_ZIPF = 4.5  # capitalised mid-sentence: "Maria" 4.3, "Carter" 4.4; not "Grace" 4.6
COMMON_GIVEN_ZIPF, COMMON_GIVEN_COUNTRIES = 5.5, 30  # capitalised mid-sentence "David", "Mark"
INITIAL_COUNTRIES = 10  # sentence-initial: "Maria said" yes, "Farmer" (2 countries) no
JOIN_ZIPF_MIXED, JOIN_ZIPF_FLAT = 6.0, 4.0  # a name word joining an anchor's span
NOT_ENGLISH_ZIPF = 2.0  # a capitalised word this rare in English joins an anchor as a surname


def _key(word: str) -> str:
    return word.lower() if word.isascii() else fold(word)


def entry(lex: NameLexicon, word: str) -> Entry:
    """What the lexicon says of one word; hyphenated names are read part by part."""
    key = _key(word)
    found = lex.names.get(key)
    if found is not None:
        return found
    if "-" not in key and "'" not in key:
        return lex.get(key)
    joined = lex.names.get(key.replace("-", "").replace("'", ""))
    if joined is not None:
        return joined
    parts = [p for p in re.split(r"['-]", key) if p]
    entries = [lex.get(p) for p in parts]
    named = [e for e, p in zip(entries, parts, strict=True) if e.is_name or p in _PREFIXES]
    if len(named) < len(parts) or not any(e.is_name for e in entries):
        return NOT_FOUND  # "follow-up", "e-mail": not every part is a name
    return Entry(min(e.zipf for e in entries), max(e.countries for e in entries),
                 max(e.kinds for e in entries))


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


# Per-word flags, computed once per lexicon word (the hot loop only tests bits).
A_FLAT, A_INITIAL, A_CAPITAL, PAIR, JOIN_MIXED, JOIN_FLAT, GIVEN_BIT, CUE = 1, 2, 4, 8, 16, 32, 64, 128
CUE_CAPITAL = 256  # a rare English word that is no name: a cue counts only when it is capitalised
UNKNOWN = JOIN_MIXED | JOIN_FLAT | CUE  # in neither list: a surname beside an anchor or a cue


def _flags(e: Entry, key: str) -> int:
    f = 0
    if e.is_name:
        if _is_anchor(e, key, capital=False, initial=False):
            f |= A_FLAT
        if _is_anchor(e, key, capital=True, initial=True):
            f |= A_INITIAL
        if _is_anchor(e, key, capital=True, initial=False):
            f |= A_CAPITAL
        if e.zipf < CAPITAL_ZIPF:
            f |= PAIR
        if e.kinds & GIVEN:
            f |= GIVEN_BIT
        if e.zipf < CUE_ZIPF and len(key) > 2:
            f |= CUE
    elif e.zipf < CUE_ZIPF and len(key) > 2:  # capitalised beside a cue: "Aiyana Whitehorse said"
        f |= CUE_CAPITAL
    if key in NOT_SURNAMES:
        return f & ~(JOIN_MIXED | JOIN_FLAT)
    if (e.is_name and e.zipf < JOIN_ZIPF_MIXED) or e.zipf < NOT_ENGLISH_ZIPF:
        f |= JOIN_MIXED
    if (e.is_name and e.zipf < JOIN_ZIPF_FLAT) or e.zipf < NOT_ENGLISH_ZIPF:
        f |= JOIN_FLAT
    return f


# The bits that can make a word an anchor (alone, beside a cue, or as one of a pair). A lexicon
# name without any of them ("the", "will": common in English) never changes the outcome, so it
# is left out of the words the anchor loop visits.
ANCHOR_BITS = A_FLAT | A_INITIAL | A_CAPITAL | PAIR | CUE | CUE_CAPITAL
_FLAG_CACHE: dict[int, dict[str, int]] = {}
_POOLS: dict[tuple[int, frozenset[str]], frozenset[str]] = {}


def _name_flags(lex: NameLexicon) -> dict[str, int]:
    got = _FLAG_CACHE.get(id(lex))
    if got is None:
        got = _FLAG_CACHE[id(lex)] = {k: _flags(e, k) for k, e in lex.names.items()}
    return got


def hit_pool(lex: NameLexicon, names: dict[str, int], first_names: frozenset[str]) -> frozenset[str]:
    """Keys worth a visit in the anchor loop: names that can anchor, first names and cue words.

    Built once per lexicon and first-name set; membership is then one C-level set test per word.
    """
    key = (id(lex), first_names)
    got = _POOLS.get(key)
    if got is None:
        able = (k for k, f in names.items() if f & ANCHOR_BITS)
        got = _POOLS[key] = frozenset(able).union(first_names, AFTER_PERSON, BEFORE_PERSON)
    return got


def _word_flags(lex: NameLexicon, names: dict[str, int], word: str, key: str) -> int:
    f = names.get(key)
    if f is not None:
        return f
    f = _OTHER_FLAGS.get(key)
    if f is None:
        f = _OTHER_FLAGS[key] = _other_flags(lex, word, key)
        if len(_OTHER_FLAGS) > 100_000:  # bounded memory on endless distinct words
            _OTHER_FLAGS.clear()
    return f


_OTHER_FLAGS: dict[str, int] = {}


def _other_flags(lex: NameLexicon, word: str, key: str) -> int:
    if "-" in key or "'" in key:
        e = entry(lex, word)
        if e.is_name:
            return _flags(e, key.replace("-", "").replace("'", "")) | UNKNOWN
    if key in lex:
        return _flags(lex.get(key), key)
    return UNKNOWN if 2 <= len(key) <= MAX_NAME_CHARS else 0  # not "xxxxxxxx…" junk


def _capitalised(word: str) -> bool:
    """"Maria", "McCarthy", "Min-jun"; not "MARIA" (an acronym in mixed text) nor "maria"."""
    return word[0].isupper() and not (len(word) > 1 and word.isupper())


def _glued_to_digits(before: str, after: str) -> bool:
    """Letters touching a digit are part of a code, an id or a hash ("c7cea5485", "A4"), not a word."""
    return (before[-1:].isdigit()) or (after[:1].isdigit())


def find_lexicon_names(text: str, first_names: frozenset[str] = frozenset()) -> Iterator[Span]:
    """Runs of name words around an anchor (see the module docstring). Linear in ``len(text)``.

    ``first_names``: capitalised words that make the next capitalised word a surname even when
    neither is an anchor ("Maria Price"), the older compact rule kept beside the lexicon.
    Written as C-level passes over all words (split, map, slices) and Python work only for the
    words that are names or cues: 1 MB where every word is a name costs well under a second.
    """
    lex = lexicon()
    if lex is None:
        return
    names = _name_flags(lex)
    parts = _SPLIT.split(text)  # [gap, word, gap, word, ..., gap]
    words, gaps = parts[1::2], parts[0::2]
    if not words:
        return
    ascii_text = text.isascii()
    keys = list(map(str.lower, words)) if ascii_text else [_key(w) for w in words]
    cues = AFTER_PERSON | BEFORE_PERSON
    pool = hit_pool(lex, names, first_names)
    found = compress(range(len(keys)), map(pool.__contains__, keys))  # in C: no loop per word
    if not ascii_text or "-" in text or "'" in text:  # hyphenated words are read part by part
        found = sorted(set(found).union(i for i, k in enumerate(keys) if "-" in k or "'" in k))
    hits = [i for i in found
            if words[i] not in DATA_SPELLINGS and not _glued_to_digits(gaps[i], gaps[i + 1])]
    cue_hits = [i for i in hits if keys[i] in cues]
    if cue_hits:  # an unknown word beside a cue ("Etxeberria signed") is a candidate too
        hits = sorted(set(hits).union(j for i in cue_hits for j in (i - 1, i + 1)
                                      if 0 <= j < len(keys)))
    if not hits:
        return
    offsets = list(accumulate(map(len, parts)))
    n = len(words)
    spans = (offsets[0:2 * n:2], offsets[1:2 * n:2])  # starts, ends
    mixed = text != text.lower() and text != text.upper()  # flat text: casing says nothing
    flags = list(map(names.get, keys, repeat(-1)))
    linked = [*map(_JOIN_GAPS.__contains__, gaps[1:-1]), False]
    title = list(map(str.istitle, words)) if mixed else [True] * n

    def flag(i: int) -> int:
        if flags[i] < 0:
            flags[i] = _word_flags(lex, names, words[i], keys[i])
        return flags[i]

    def upper(i: int) -> bool:
        return title[i] or _capitalised(words[i])

    anchors = bytearray(n)
    for i in hits:
        f = flag(i)
        if not mixed:
            if f & A_FLAT:
                anchors[i] = 1
        elif upper(i):
            initial = i == 0 or _is_initial(gaps[i])
            if f & (A_INITIAL if initial else A_CAPITAL):
                anchors[i] = 1
        elif not words[i][0].isupper() and f & A_FLAT:
            anchors[i] = 1
        if not anchors[i] and _cued(keys, gaps, i) and (
                f & CUE or (f & CUE_CAPITAL and mixed and i > 0 and upper(i)
                             and not _is_initial(gaps[i]))):
            anchors[i] = 1
        if linked[i] and upper(i) and upper(i + 1):
            g = flag(i + 1)
            if f & g & PAIR and (f | g) & GIVEN_BIT:
                anchors[i] = anchors[i + 1] = 1  # "CONNOR WALSH": uncommon names side by side
            elif mixed and keys[i] in first_names and keys[i + 1] not in NOT_SURNAMES:
                anchors[i] = anchors[i + 1] = 1  # "Maria Price"
    yield from _runs(spans, words, keys, anchors, linked, mixed, flag, upper)


def _cued(keys: list[str], gaps: list[str], i: int) -> bool:
    """A person cue word right before ("call X") or after ("X said") word ``i``."""
    before = i > 0 and keys[i - 1] in BEFORE_PERSON and gaps[i] == " "
    after = i + 1 < len(keys) and keys[i + 1] in AFTER_PERSON and gaps[i + 1] == " "
    return before or after


def _is_initial(gap: str) -> bool:
    return gap != " " and any(c in _BREAKS for c in gap)


def _runs(spans: tuple[list[int], list[int]], words: list[str], keys: list[str],
          anchors: bytearray, linked: list[bool], mixed: bool,
          flag: Callable[[int], int], upper: Callable[[int], bool]) -> Iterator[Span]:
    """Grow each anchor into a run of joining words and yield the runs that are not places."""
    n = len(words)
    join_bit = JOIN_MIXED if mixed else JOIN_FLAT

    def joins(i: int) -> bool:
        if keys[i] in PARTICLES:
            return True
        if mixed and not upper(i):
            return False
        return bool(flag(i) & join_bit)

    def after_particle(i: int) -> bool:  # "de Vries", "van der Merwe"
        return keys[i - 1] in PARTICLES and upper(i) and bool(flag(i) & JOIN_FLAT)

    done = -1
    i = anchors.find(1)
    while i >= 0:
        lo = hi = i
        while lo > done + 1 and hi - lo < MAX_RUN - 1 and linked[lo - 1] and joins(lo - 1) \
                and words[lo - 1] not in PARTICLES:
            lo -= 1
        while hi + 1 < n and hi - lo < MAX_RUN - 1 and linked[hi] \
                and (anchors[hi + 1] or joins(hi + 1) or after_particle(hi + 1)):
            hi += 1
        while hi > i and keys[hi] in PARTICLES:  # "Anna de" -> "Anna"
            hi -= 1
        done = hi
        place = hi + 1 < n and keys[hi + 1] in NOT_SURNAMES and linked[hi]
        if not place:  # "Grace Street", "Carter Hospital"
            yield spans[0][lo], spans[1][hi], 0.75
        i = anchors.find(1, hi + 1)
