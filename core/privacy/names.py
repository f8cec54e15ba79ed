"""Person names in free text and in name-like cells.

Two sources of evidence, combined (a span found by either is masked):

1. Cues a person would also use: an honorific ("Dr Okafor"), a self-introduction ("my name is
   Ana Ruiz"), a greeting or sign-off ("Dear Tom Baker,"), or a capitalised pair whose first word
   is a common first name ("Maria Schmidt").
2. The name lexicon, given names and surnames of 122 countries weighed by how common each word
   is in English (``core.privacy.name_finder``, which says how).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from core.privacy.name_finder import NOT_SURNAMES, find_lexicon_names
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


_WORD = r"[A-Z][a-z\u00e0-\u00ff]+(?:[-'\u2019][A-Z]?[a-z\u00e0-\u00ff]+)?"
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
# Substrings every match of a pattern contains: a text without any of them is not searched. The
# honorifics are matched case-sensitively, so their hints are tested on the text as written
# ("Dr", "Mrs" contains "Mr"); the introductions ignore case, so theirs on the lower-cased text.
_HONORIFIC_HINTS = re.compile("Mr|Ms|Mx|Miss|Dr|Prof|Sir|Dame|Mme|Mlle|Herr|Frau|Sr|M\\.")
_INTRO_HINTS = re.compile("name|call|signed|regards|sincerely|thanks|dear| by|contact|appelle|hei|"
                          "llamo")
_INTRO = re.compile(rf"(?:\b(?i:{_INTRO_CUES}))[,:]?\s+({_NAME})")


def _trim_name(text: str, start: int, end: int) -> int:
    """End the span before a trailing word that marks a place ("Anna Lee Street")."""
    words = text[start:end].split()
    while len(words) > 1 and words[-1].lower() in NOT_SURNAMES:
        words.pop()
    return start + len(" ".join(words)) if words else end


def find_names(text: str) -> Iterator[Span]:
    """Spans of person names: honorifics, introductions, first-name pairs and the name lexicon."""
    yield from find_lexicon_names(text, FIRST_NAMES)
    if text == text.lower():
        return  # the cue patterns below all need capitals
    lowered = text.lower()
    for pattern, conf, hinted in ((_HONORIFIC, 0.85, _HONORIFIC_HINTS.search(text)),
                                  (_INTRO, 0.8, _INTRO_HINTS.search(lowered))):
        if not hinted:
            continue  # one search in C skips a pattern that cannot match
        for m in pattern.finditer(text):
            yield m.start(1), _trim_name(text, m.start(1), m.end(1)), conf


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

