"""A bounded cache of masked texts, so a text masked once costs nothing the next time.

Predict, explain and the pages mask the same texts again and again (a file predicted, then shown,
then its rows explained). The cache maps ``(text, operator, state)`` to the masked text, where
``state`` is everything else that decides what masking returns:

- the name lexicon object in use (a rebuilt or replaced lexicon is a new object: new keys);
- the current year (birth dates are checked against it);
- a generation number that ``clear_mask_cache()`` moves on, for anything else that changes
  detection in a running process.

Nothing is ever returned for a key it was not computed for, so a cached answer is exactly what
masking the text again would give. The "hash" operator is never cached (its tokens depend on
the install's key, read only when something is found). Only texts up to ``MAX_TEXT_CHARS`` are
kept, and the whole cache holds at most ``MAX_ENTRIES`` texts and ``MAX_CHARS`` characters, least
recently used out first. It lives in process memory only: masked texts are never written anywhere by it.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable
from datetime import date

MAX_ENTRIES = 20_000
MAX_CHARS = 16_000_000  # input plus output characters held, all entries together
MAX_TEXT_CHARS = 20_000  # longer texts are masked each time (they are rare and slow to hash)


class TextCache:
    """A thread-safe least-recently-used map of masked texts, bounded in entries and characters."""

    def __init__(self, max_entries: int = MAX_ENTRIES, max_chars: int = MAX_CHARS) -> None:
        self.max_entries, self.max_chars = max_entries, max_chars
        self._items: OrderedDict[Hashable, tuple[str, int]] = OrderedDict()
        self._chars = 0
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def __len__(self) -> int:
        return len(self._items)

    def get(self, key: Hashable) -> str | None:
        with self._lock:
            item = self._items.get(key)
            if item is None:
                self.misses += 1
                return None
            self._items.move_to_end(key)
            self.hits += 1
            return item[0]

    def put(self, key: Hashable, text: str, size: int) -> None:
        """Keep ``text`` under ``key``; ``size`` is the characters it holds (input + output)."""
        if size > self.max_chars:
            return
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self._chars -= old[1]
            self._items[key] = (text, size)
            self._chars += size
            while len(self._items) > self.max_entries or self._chars > self.max_chars:
                _, (_, dropped) = self._items.popitem(last=False)
                self._chars -= dropped

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._chars = 0
            self.hits = self.misses = 0


MASKED = TextCache()
_GENERATION = [0]


def clear_mask_cache() -> None:
    """Forget every masked text; call after anything that changes detection at run time."""
    _GENERATION[0] += 1
    MASKED.clear()


def masking_state(operator: str) -> tuple[object, ...] | None:
    """What besides the text decides the masked output (see the module docstring); ``None``
    when the result must not be cached (the "hash" operator)."""
    from core.privacy.name_lexicon import lexicon

    if operator == "hash":
        return None
    return (operator, lexicon(), date.today().year, _GENERATION[0])
