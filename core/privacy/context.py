"""Whether a name-only quasi-identifier guess fits the table it sits in.

A column called ``age`` is a quasi-identifier in a table of patients, not in a table of houses:
``housing_median_age`` is the median age of the buildings in a census block. The scan first reads
each column name on its own (``detect.column_cues``); this module then reads the whole table's
meaning and drops the guesses that describe a thing or a group rather than a person:

1. the column's own name qualifies the cue with a non-person subject or an aggregate
   (``housing_median_age``, ``vehicle_age``, ``mean_age``) and no person word (``mother_age``);
2. the table holds no sign of people (no detected personal data, no person-name column, no
   person word such as customer or patient, no strongly personal trait such as sex or ethnicity)
   and its columns do name a non-person subject (houses, rooms, households, vehicles, products…).

Only guesses made from a column name are reconsidered; detected values (a ZIP code, a date of
birth) and the user's overrides always stand. Neither rule fires on a table that says nothing
either way: then the cautious guess stays.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from core.privacy.detect import PERSON_QUALIFIERS, column_cues
from core.privacy.patterns import words

# Things and places a table can describe instead of people.
THING_SUBJECTS = words(
    "house houses housing home homes building buildings property properties apartment rooms "
    "bedrooms bathrooms households block tract district county region neighborhood "
    "neighbourhood population vehicle vehicles car cars engine truck fleet aircraft ship "
    "product products item items store shop company firm business equipment machine device "
    "asset assets tree trees plant crop field wine loan policy contract battery tire tyre "
    "account server host network sensor ocean proximity parcel lot"
)
# Words that turn a personal trait into a statistic over a group.
AGGREGATES = words("median mean average avg total sum min max pct percent share rate ratio per")
# Words that say a table is about people.
PERSON_WORDS = PERSON_QUALIFIERS | words(
    "name surname patient customer client employee user member student person people citizen "
    "resident respondent participant subscriber voter passenger applicant donor"
)
# Traits only people have: a table with one of these is about people.
PERSONAL_TRAITS = frozenset({"gender", "sex", "birth date", "ethnicity", "religion", "nationality",
                             "marital status"})


def _words(name: str) -> frozenset[str]:
    """The name's words, without the joined whole (``housingmedianage``)."""
    cues = column_cues(name)
    joined = "".join(sorted(cues.tokens, key=len)[-1:])
    return frozenset(t for t in cues.tokens if t != joined or len(cues.tokens) == 1)


def _cue_words(name: str) -> frozenset[str]:
    from core.privacy.detect import QUASI_CUES

    return frozenset(w for w in _words(name) if w in QUASI_CUES)


def table_is_about_people(names: Iterable[str], evidence: Iterable[str] = ()) -> bool:
    """Whether a table's columns show it describes people; ``evidence`` are columns in which
    personal data was detected."""
    if any(True for _ in evidence):
        return True
    for name in names:
        cues = column_cues(name)
        if cues.person or _words(name) & PERSON_WORDS or cues.quasi in PERSONAL_TRAITS:
            return True
    return False


def table_subject(names: Iterable[str]) -> str | None:
    """The first non-person subject the column names mention (``housing``), if any."""
    for name in names:
        found = sorted(_words(name) & THING_SUBJECTS)
        if found:
            return found[0]
    return None


def not_personal(names: Iterable[str], name_only_quasi: Iterable[str],
                 evidence: Iterable[str] = ()) -> Mapping[str, str]:
    """Name-only quasi-identifier guesses that the table's meaning rules out: column -> why."""
    names = [str(n) for n in names]
    people = table_is_about_people(names, evidence)
    subject = None if people else table_subject(names)
    out: dict[str, str] = {}
    for name in name_only_quasi:
        own = _words(name) - _cue_words(name)
        if own & PERSON_WORDS:
            continue
        qualifier = sorted(own & (THING_SUBJECTS | AGGREGATES))
        if qualifier:
            out[name] = f"column name, but it describes {' '.join(qualifier)}, not a person"
        elif subject:
            out[name] = f"column name, but the table describes {subject}, not people"
    return out
