"""mask_text on 1 MB adversarial inputs, and its per-note cost on ordinary support notes.

(a) For each adversarial input (a unit repeated to ``size`` characters, then "@"): the time of
``mask_text`` and of two linear anchors measured on the same text in the same run, ``str.lower``
and ``re.finditer("(?s).")`` (one match object per character). The old e-mail pattern is run on
its own adversarial input at 20,000 characters and extrapolated, to show what was fixed.
(b) Per-text cost on 2,000 ordinary support notes (half name someone): ``mask_text`` per note,
against the anchor ``str.lower`` per note; and ``mask_shortened`` on a 1 MB note.

    .venv/bin/python -m benchmarks.mask_text_bench [size]
"""

from __future__ import annotations

import os
import platform
import random
import re
import sys
import time

from core.privacy import mask_shortened, mask_text
from core.privacy.mask import _mask_text  # detection and masking without the cache

UNITS = {
    "'%' (old e-mail worst case)": "%",
    "'+' and 40 digits (old phone worst case)": "+" + "1" * 40 + " ",
    "'a@' (e-mail starts)": "a@",
    "'x@a.a.a…' (domain labels)": "x@" + "a." * 20 + " ",
    "'Maria ' (every word a name)": "Maria ",
    "'maria ' (lower case names)": "maria ",
    "'Dear Maria ' (cue + name)": "Dear Maria ",
    "'Dr Aa Aa ' (honorific)": "Dr Aa Aa ",
    "'Jan ' (month names)": "Jan ",
    "'1 ' (digits)": "1 ",
    "'a:' (IPv6-like)": "a:" * 9 + " ",
    "'The parcel was damaged. '": "The parcel was damaged. ",
}
OLD_EMAIL = re.compile(r"(?<![\w.+-])[A-Za-z0-9._%+-]+@(?:[A-Za-z0-9-]+\.)+[A-Za-z]{2,24}\b")
ANY = re.compile(r"(?s).")


# People, contact details and account numbers written the ways people write them. Hand-written
# here (not from data/make_pii, whose values the detectors were built beside).
PEOPLE = ("Mateus Kowalczyk", "Rasmus Lund", "Bertrand Moreau", "Ngozi Okafor", "Li Na",
          "Sanne de Vries", "Kemal Aydın", "Priya Mehta", "Siobhan Murphy", "Jean-Luc Picard",
          "Björn Sigurðsson", "Omar El-Amin", "Maria Price", "Pieter van der Merwe",
          "Aiyana Whitehorse", "Nan Zhou", "Connor Walsh", "Joaquín Sepúlveda")
EMAILS = ("jane.d+news@mail.example.co.uk", "J_DOE99@EXAMPLE.ORG", "m.kowalczyk@firma.example",
          "support-team@shop.example.com")
PHONES = ("(555) 123-4567", "555-123-4567", "555.123.4567", "+1 415 555 2671", "020 7946 0958",
          "07700 900123", "06 12 34 56 78", "01.23.45.67.89", "+49 30 123456", "089/12345678",
          "+44 (0)20 7946 0958")
OTHER_PII = ("card 4111 1111 1111 1111", "IBAN DE89 3704 0044 0532 0130 00",
             "pay GB82WEST12345698765432", "from 192.168.1.20", "see https://example.org/u/anna?id=3",
             "SSN 123-45-6789", "born 12 March 1984", "DOB: 1984-03-12", "London SW1A 1AA",
             "Austin, TX 78701-1234", "v6 2001:db8::ff00:42:8329")
NOTE_TEMPLATES = (
    "Refund approved for {p} after review.", "{p} said the parcel was damaged.",
    "call {q} tomorrow about order {n}", "Parcel {n} left with the neighbour.",
    "Customer asked for an invoice copy for order {n}.", "Dear {p}, thanks for your message.",
    "Please reach {p} at {e} or {ph}.", "ESCALATED: {P} WAITING SINCE MONDAY, PHONE {ph}",
    "Spoke to {p} on the phone; {x}.", "The courier reported a damaged box, {x}.",
    "my name is {p} and my number is {ph}", "Order {n}: {x}, contact {e}",
    "Will the replacement arrive before May? Mark the box as fragile.",
    "Ticket closed by {p} on 2023-01-05, version 2.4, room 101, 42% off.",
)


def varied_texts(count: int, seed: int = 0) -> list[str]:
    """Support notes naming people in every casing, with e-mails, phones, cards, IBANs, IPs,
    URLs, SSNs, birth dates and postcodes in varied formats, and some with none of them."""
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        p = rng.choice(PEOPLE)
        out.append(rng.choice(NOTE_TEMPLATES).format(
            p=p, q=p.lower(), P=p.upper(), e=rng.choice(EMAILS), ph=rng.choice(PHONES),
            x=rng.choice(OTHER_PII), n=rng.randint(10000, 99999)))
    return out


def _cpu(fn) -> float:  # noqa: ANN001
    start = time.process_time()
    fn()
    return time.process_time() - start


def adversarial(size: int) -> None:
    print(f"(a) mask_text on {size:,}-character adversarial inputs (CPU seconds)")
    print(f"{'input':<44}{'mask_text':>10}{'str.lower':>10}{'(?s).':>9}{'ratio vs .':>11}")
    worst = 0.0
    for name, unit in UNITS.items():
        text = (unit * (size // len(unit) + 1))[:size] + "@"
        spent = _cpu(lambda t=text: mask_text(t))
        lower = _cpu(lambda t=text: t.lower())
        anyc = _cpu(lambda t=text: sum(1 for _ in ANY.finditer(t)))
        worst = max(worst, spent)
        print(f"{name:<44}{spent:>10.3f}{lower:>10.4f}{anyc:>9.3f}{spent / anyc:>10.1f}x")
    print(f"worst mask_text: {worst:.3f} s CPU")
    small = 20_000
    text = "%" * small + "@"
    old = _cpu(lambda: sum(1 for _ in OLD_EMAIL.finditer(text)))
    print(f"old e-mail pattern on '%'*{small:,}+'@': {old:.2f} s; quadratic, so ~"
          f"{old * (size / small) ** 2:,.0f} s at {size:,}")


def notes(count: int = 2000) -> None:
    rng = random.Random(0)
    people = ["Mateus Kowalczyk", "Rasmus Lund", "Bertrand Moreau", "Ngozi Okafor", "Li Na",
              "Sanne de Vries", "Kemal Aydın", "Priya Mehta"]
    templates = ["Refund approved for {p} after review.", "{p} said the parcel was damaged.",
                 "call {q} tomorrow about order {n}", "Parcel {n} left with the neighbour.",
                 "Customer asked for an invoice copy for order {n}.",
                 "Courier reported a damaged box at the depot, order {n}."]
    texts = [rng.choice(templates).format(p=(p := rng.choice(people)), q=p.lower(),
                                          n=rng.randint(10000, 99999)) for _ in range(count)]
    mask_text(texts[0])  # the lexicon is loaded once per process: not part of the per-note cost
    # Every distinct note detected afresh (the masked-text cache would answer repeats for free).
    spent = _cpu(lambda: [_mask_text(t, "replace") for t in texts])
    lower = _cpu(lambda: [t.lower() for t in texts])
    avg = sum(map(len, texts)) / count
    print(f"(b) {count:,} support notes (avg {avg:.0f} chars): mask_text "
          f"{spent / count * 1e6:.0f} µs/note, str.lower {lower / count * 1e6:.2f} µs/note "
          f"(ratio {spent / max(lower, 1e-9):.0f}x)")
    big = "Call Rasmus Lund at +44 20 7946 0958. " + "The parcel was damaged. " * 45_000
    short = _cpu(lambda: mask_shortened(big, 1000))
    full = _cpu(lambda: mask_text(big))
    print(f"    1 MB note: mask_shortened(limit=1000) {short * 1e3:.1f} ms, "
          f"mask_text(whole) {full:.3f} s")


def main(size: int = 1_000_000) -> None:
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, load average {load:.1f}, "
          f"Python {platform.python_version()}")
    start = time.perf_counter()
    mask_text("warm up: Rasmus")
    print(f"first call (loads the name lexicon from the user cache): "
          f"{time.perf_counter() - start:.2f} s wall")
    adversarial(size)
    notes()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000)
