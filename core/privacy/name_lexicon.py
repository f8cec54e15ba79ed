"""A compact lexicon of person names (122 countries) and English word frequencies.

Why these two packages (issue 12, measured in docs/benchmarks.md):

- ``nominate`` (MIT; data from the Onomaverse names dataset, CC BY 4.0) ships given names and
  surnames with counts for 122 countries as Parquet files, read with pyarrow through its public
  ``DataManager``. ``names-dataset`` was rejected: its data files are pickles, which Loupe never
  loads; ``gender-guesser`` is GPL and first names only; an ``en_core_web_sm`` mirror is an
  unofficial re-upload whose NER misses lower-case and non-English names.
- ``wordfreq`` (MIT code, CC BY-SA data, msgpack files) says how common a word is in English, which
  is what tells the name "Rasmus" (rare as an English word) from "Will" or "Hope".

Loading both costs ~5 s and ~400 MB once, so the derived table (~100k entries, ~3 MB of JSON) is
built on first use and cached in the user cache folder (``LOUPE_CACHE_DIR``, else
``$XDG_CACHE_HOME/loupe`` or ``~/.cache/loupe``), keyed by both packages' versions; later
processes load only that file (~0.2 s, ~25 MB). Nothing is downloaded at run time.
"""

from __future__ import annotations

import json
import logging
import math
import os
import threading
import unicodedata
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from core.errors import LoupeError

LOG = logging.getLogger(__name__)
FORMAT = 1  # bump when the derived table's meaning changes
ENGLISH_MIN_ZIPF = 2.0  # English words rarer than this are stored as "not an English word"
GIVEN, SURNAME = 1, 2

_FOLD = str.maketrans({"ı": "i", "ł": "l", "Ł": "l", "ø": "o", "Ø": "o", "ð": "d", "Ð": "d",
                       "þ": "th", "Þ": "th", "ß": "ss", "æ": "ae", "Æ": "ae", "đ": "d", "Đ": "d",
                       "œ": "oe", "’": "'"})


def fold(word: str) -> str:
    """Lower-case ASCII-ish key of a word: "Yılmaz" -> "yilmaz", "Þórsson" -> "thorsson"."""
    word = word.translate(_FOLD).lower()
    if word.isascii():
        return word
    return "".join(c for c in unicodedata.normalize("NFKD", word) if not unicodedata.combining(c))


@dataclass(frozen=True, slots=True)
class Entry:
    """What the lexicon knows of one folded word."""

    zipf: float  # English frequency on the Zipf scale (0 = not an English word; "the" = 7.7)
    countries: int  # in how many countries' name lists it appears (0 = not a name)
    kinds: int  # GIVEN | SURNAME bits

    @property
    def is_name(self) -> bool:
        return self.countries > 0


NOT_FOUND = Entry(0.0, 0, 0)


class NameLexicon:
    """Look-ups on the packed table: ``{folded word: zipf*10 | countries << 7 | kinds << 15}``."""

    def __init__(self, packed: dict[str, int]):
        self._packed = packed
        self.names: dict[str, Entry] = {k: self.get(k) for k, v in packed.items() if v >> 7}

    def __len__(self) -> int:
        return len(self._packed)

    def __contains__(self, key: str) -> bool:
        return key in self._packed

    def get(self, key: str) -> Entry:
        v = self._packed.get(key)
        if v is None:
            return NOT_FOUND
        return Entry((v & 0x7F) / 10, (v >> 7) & 0xFF, v >> 15)


def _versions() -> str:
    return "-".join(f"{p}{metadata.version(p)}" for p in ("nominate", "wordfreq"))


def cache_dir() -> Path:
    env = os.environ.get("LOUPE_CACHE_DIR")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "loupe"


def _has_vowel(word: str) -> bool:
    return any(c in "aeiouy" for c in word)


def build_packed() -> dict[str, int]:
    """Derive the table from the two packages (slow: ~5 s, ~400 MB while it runs)."""
    from nominate import DataManager
    from wordfreq import get_frequency_dict

    data = DataManager()
    countries: dict[str, set[str]] = {}
    kinds: dict[str, int] = {}
    for kind, bit in (("given", GIVEN), ("surname", SURNAME)):
        for code in data.available_countries():
            table = data.load(kind, [code])
            for name, latin, count in zip(table.name, table.latin, table.count, strict=True):
                if count < 2:  # single occurrences are mostly transliteration noise
                    continue
                for form in {fold(str(name)), fold(str(latin))}:
                    # letters (hyphen/apostrophe inside), with a vowel: drops "htm", "wrs"
                    plain = form.replace("-", "").replace("'", "")
                    if len(plain) < 2 or not plain.isalpha() or not plain.isascii():
                        continue
                    if not _has_vowel(plain):
                        continue
                    countries.setdefault(form, set()).add(code)
                    kinds[form] = kinds.get(form, 0) | bit
    freqs = get_frequency_dict("en", wordlist="best")
    packed: dict[str, int] = {}
    for word, f in freqs.items():
        z = math.log10(f) + 9 if f > 0 else 0.0
        if z >= ENGLISH_MIN_ZIPF and word.isalpha():
            packed[word] = min(round(z * 10), 0x7F)
    for form, codes in countries.items():
        packed[form] = packed.get(form, 0) | min(len(codes), 0xFF) << 7 | kinds[form] << 15
    return packed


def _write_cache(path: Path, packed: dict[str, int]) -> None:
    from core.output.files import atomic_write  # core.output imports core.privacy: import late

    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, json.dumps({"format": FORMAT, "versions": _versions(), "table": packed},
                                  separators=(",", ":")))


def _load() -> NameLexicon | None:
    try:
        versions = _versions()
    except metadata.PackageNotFoundError as exc:
        LOG.warning("person-name lexicon unavailable (%s is not installed): names in free text "
                    "are found by context cues only; reinstall Loupe to fix", exc.name)
        return None
    path = cache_dir() / f"person-names-v{FORMAT}-{versions}.json"
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        table = doc.get("table")
        if doc.get("format") == FORMAT and doc.get("versions") == versions \
                and isinstance(table, dict):
            return NameLexicon(table)
    except (OSError, ValueError, AttributeError):
        pass  # missing or damaged: rebuild below
    packed = build_packed()
    try:
        _write_cache(path, packed)
    except (OSError, LoupeError) as exc:  # read-only home: keep it in memory for this process
        LOG.warning("could not cache the person-name lexicon at %s (%s)", path, exc)
    return NameLexicon(packed)


_LOCK = threading.Lock()
_STATE: dict[str, NameLexicon | None] = {}


def lexicon() -> NameLexicon | None:
    """The process-wide lexicon (built or read once; ``None`` when the packages are missing)."""
    if "lex" not in _STATE:
        with _LOCK:
            if "lex" not in _STATE:
                _STATE["lex"] = _load()
    return _STATE["lex"]


if __name__ == "__main__":  # `make` runs this after installing, so no run pays the build
    lex = lexicon()
    print(f"person-name lexicon: {len(lex) if lex else 0:,} words cached in {cache_dir()}")
