"""Generate a table with planted personal data, and a PII-free control table.

``make_pii`` returns the table and its ground truth (row, column, entity, planted value): every
entity type Loupe detects, in several formats each, as whole cells and embedded in a free-text
``notes`` column. Values are synthetic but valid where validity is checkable (Luhn-correct card
numbers, mod-97-correct IBANs, allowed SSN ranges, real calendar dates), so a detector that
checks them must still find them. ``make_house_like`` is a house-price table with no personal
data (measurements, categories, listing text) to count false alarms on.

    python -m data.make_pii out.csv [truth.csv]
"""

from __future__ import annotations

import random
import sys
from collections.abc import Callable

import numpy as np
import pandas as pd

FIRST = ["Anna", "Olivia", "James", "Maria", "Lukas", "Priya", "Omar", "Sophie", "Carlos", "Mei",
         "Fatima", "Daniel", "Elena", "Yusuf", "Claire", "Hans", "Isabella", "Rahul"]
LAST = ["Kowalski", "Okafor", "Nguyen", "Müller", "García", "O'Brien", "Dubois", "Rossi",
        "Tanaka", "Patel", "Schmidt", "Johansson", "Martin", "Novak", "Haddad", "Fischer"]
DOMAINS = ["example.com", "mail.example.co.uk", "example.org", "corp.example.io", "example.de"]
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December"]

Gen = Callable[[random.Random, int], str]


def _digits(r: random.Random, n: int) -> str:
    return "".join(str(r.randrange(10)) for _ in range(n))


def _luhn_complete(body: str) -> str:
    """Append the Luhn check digit to ``body``."""
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch)
        if i % 2 == 0:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return body + str((10 - total % 10) % 10)


def _card(r: random.Random, i: int) -> str:
    kind = i % 5
    if kind == 0:  # Visa, spaces
        d = _luhn_complete("4" + _digits(r, 14))
        return " ".join(d[j:j + 4] for j in range(0, 16, 4))
    if kind == 1:  # Mastercard, dashes
        d = _luhn_complete("5" + str(r.randint(1, 5)) + _digits(r, 13))
        return "-".join(d[j:j + 4] for j in range(0, 16, 4))
    if kind == 2:  # Amex 4-6-5
        d = _luhn_complete(r.choice(["34", "37"]) + _digits(r, 12))
        return f"{d[:4]} {d[4:10]} {d[10:]}"
    if kind == 3:  # Visa, no separators
        return _luhn_complete("4" + _digits(r, 14))
    d = _luhn_complete("6011" + _digits(r, 11))  # Discover
    return " ".join(d[j:j + 4] for j in range(0, 16, 4))


def _iban(r: random.Random, i: int) -> str:
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    country, bban = [
        ("DE", _digits(r, 18)),
        ("GB", "".join(r.choice(letters) for _ in range(4)) + _digits(r, 14)),
        ("FR", _digits(r, 23)),
        ("NL", "".join(r.choice(letters) for _ in range(4)) + _digits(r, 10)),
        ("ES", _digits(r, 20)),
    ][i % 5]
    numeric = "".join(str(int(c, 36)) for c in bban + country + "00")
    iban = f"{country}{98 - int(numeric) % 97:02d}{bban}"
    return iban if i % 2 else " ".join(iban[j:j + 4] for j in range(0, len(iban), 4))


def _phone(r: random.Random, i: int) -> str:
    d = lambda n: _digits(r, n)  # noqa: E731
    area = str(r.randint(2, 9)) + d(2)
    formats = [
        lambda: f"+1 ({area}) {d(3)}-{d(4)}", lambda: f"+1-{area}-{d(3)}-{d(4)}",
        lambda: f"({area}) {d(3)}-{d(4)}", lambda: f"{area}-{d(3)}-{d(4)}",
        lambda: f"{area}.{d(3)}.{d(4)}", lambda: f"+44 20 {d(4)} {d(4)}",
        lambda: f"020 {d(4)} {d(4)}", lambda: f"07700 {d(6)}", lambda: f"+44 7700 {d(6)}",
        lambda: f"+33 6 {d(2)} {d(2)} {d(2)} {d(2)}", lambda: f"06 {d(2)} {d(2)} {d(2)} {d(2)}",
        lambda: f"01.{d(2)}.{d(2)}.{d(2)}.{d(2)}", lambda: f"+49 30 {d(6)}",
        lambda: f"+49 (0)89 {d(8)}", lambda: f"030 {d(7)}", lambda: f"089/{d(8)}",
    ]
    return formats[i % len(formats)]()


def _ssn(r: random.Random, i: int) -> str:
    area = r.choice([n for n in range(1, 900) if n != 666])
    body = f"{area:03d}", f"{r.randint(1, 99):02d}", f"{r.randint(1, 9999):04d}"
    return ["-".join(body), " ".join(body), "".join(body)][i % 3]


def _dob(r: random.Random, i: int) -> str:
    y, m, day = r.randint(1940, 2005), r.randint(1, 12), r.randint(1, 28)
    return [f"{y}-{m:02d}-{day:02d}", f"{day:02d}/{m:02d}/{y}", f"{day:02d}.{m:02d}.{y}",
            f"{day} {MONTHS[m - 1]} {y}", f"{MONTHS[m - 1]} {day}, {y}", f"{y}/{m:02d}/{day:02d}"
            ][i % 6]


def _ordinal_date(r: random.Random) -> str:
    day = r.randint(1, 28)
    suffix = "th" if 4 <= day <= 20 or day >= 24 else {1: "st", 2: "nd", 3: "rd"}[day % 10]
    return f"{day}{suffix} of {r.choice(MONTHS)} {r.randint(1940, 2000)}"


def _postal(r: random.Random, i: int) -> str:
    uk = ["SW1A 1AA", "EC1A 1BB", "M1 1AE", "B33 8TH", "CR2 6XH", "DN55 1PT", "W1A 0AX"]
    return [f"{r.randint(10000, 99999)}", f"0{r.randint(1000, 9999)}",
            f"{r.randint(10000, 99999)}-{r.randint(0, 9999):04d}", r.choice(uk)][i % 4]


def _ip(r: random.Random, i: int) -> str:
    h = lambda: f"{r.randrange(65536):x}"  # noqa: E731
    return [f"{r.randint(1, 223)}.{r.randrange(256)}.{r.randrange(256)}.{r.randint(1, 254)}",
            ":".join(f"{r.randrange(65536):04x}" for _ in range(8)),
            f"2001:db8::{h()}:{h()}", f"fe80::{h()}:{h()}:{h()}:{h()}"][i % 4]


def _url(r: random.Random, i: int) -> str:
    user = r.choice(LAST).lower().replace("'", "")
    return [f"https://www.example.com/users/{user}", f"http://blog.example.org/{user}?id={i}",
            f"www.example.net/profile/{user}", f"https://{user}.example.io/about"][i % 4]


def _email(r: random.Random, i: int, first: str, last: str) -> str:
    f, la = first.lower(), last.lower().replace("'", "").replace("ü", "u").replace("í", "i")
    return [f"{f}.{la}@{DOMAINS[i % 5]}", f"{f[0]}.{la}+news@{DOMAINS[i % 5]}",
            f"{f.upper()}_{la.upper()}{i}@{DOMAINS[i % 5].upper()}", f"{la}{i}@{DOMAINS[i % 5]}"
            ][i % 4]


def _full_name(first: str, last: str, i: int) -> str:
    return [f"{first} {last}", f"{last}, {first}", f"Dr. {first} {last}",
            f"{first} {FIRST[(i + 3) % len(FIRST)]} {last}"][i % 4]


# Free-text templates: (text with {slots}, slot -> (entity, generator)).
NOTE_TEMPLATES = [
    "Spoke with Dr {name}; she asked us to email {email} or call {phone} after 5pm.",
    "Customer says: my name is {name} and my card {card} was charged twice.",
    "Refund to IBAN {iban} approved. Born {dob}, verified by phone {phone}.",
    "Login from {ip} flagged; profile {url} updated, contact {email}.",
    "Dear {name}, your SSN {ssn} is on file. Ship to Springfield, IL {zip}.",
    "Ms {name} moved to 10 Downing Street, London {postcode}; date of birth: {dob}.",
    "Met {pair} at the branch, new number {phone}, card ending {card}.",
    "Access from {ip6} then {ip}; wire to {iban} please.",
    "Contact: {name} <{email}>, tel. {phone_intl}. Paid with {card_dash}.",
    "Signed, {hyphen} (see {url}). Office: Austin, TX {zip4}.",
    "Patient Mr {particle}, geboren am {dob_de}, Handy {phone_de}.",
    "I'm writing for my aunt, born on the {dob_ord}; her IP was {ip}.",
]


def _note(r: random.Random, i: int, first: str, last: str) -> tuple[str, list[tuple[str, str]]]:
    """One notes cell and its planted (entity, value) pairs."""
    template = NOTE_TEMPLATES[i % len(NOTE_TEMPLATES)]
    slots = {
        "name": ("PERSON", f"{first} {last}"), "email": ("EMAIL", _email(r, i + 1, first, last)),
        "phone": ("PHONE_NUMBER", _phone(r, i * 3 + 1)), "card": ("CREDIT_CARD", _card(r, i)),
        "iban": ("IBAN", _iban(r, i)), "dob": ("DATE_OF_BIRTH", _dob(r, i)),
        "ip": ("IP_ADDRESS", _ip(r, 0)), "ip6": ("IP_ADDRESS", _ip(r, 1 + i % 3)),
        "url": ("URL", _url(r, i)), "ssn": ("US_SSN", _ssn(r, 0)),
        "zip": ("POSTAL_CODE", f"{r.randint(10000, 99999)}"),
        "postcode": ("POSTAL_CODE", r.choice(["SW1A 2AA", "EC1A 1BB", "M1 1AE", "B33 8TH"])),
        "pair": ("PERSON", f"{FIRST[i % len(FIRST)]} {last}"),
        "phone_intl": ("PHONE_NUMBER", f"+1 {r.randint(201, 989)} {_digits(r, 3)} {_digits(r, 4)}"),
        "card_dash": ("CREDIT_CARD", _card(r, 1)), "zip4": ("POSTAL_CODE", _postal(r, 2)),
        "hyphen": ("PERSON", f"{first}-{r.choice(['Claire', 'Louise', 'Anne'])} Dubois"),
        "particle": ("PERSON", f"{first} {r.choice(['van der', 'de la', 'von'])} Berg"),
        "dob_de": ("DATE_OF_BIRTH", _dob(r, 2)), "phone_de": ("PHONE_NUMBER", _phone(r, 14)),
        "dob_ord": ("DATE_OF_BIRTH", _ordinal_date(r)),
    }
    used = [s for s in slots if "{" + s + "}" in template]
    return template.format(**{s: slots[s][1] for s in used}), [slots[s] for s in used]


def make_pii(rows: int = 96, seed: int = 11) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The planted-PII table and its ground truth ``row, column, entity, value``."""
    r = random.Random(seed)
    table: dict[str, list] = {c: [] for c in (
        "customer_name", "first_name", "last_name", "email", "phone", "card_number", "iban",
        "ip_address", "website", "ssn", "date_of_birth", "zip", "notes", "age", "gender", "city",
        "occupation", "purchase_total", "product_code")}
    truth: list[tuple[int, str, str, str]] = []
    whole = {"email": "EMAIL", "phone": "PHONE_NUMBER", "card_number": "CREDIT_CARD",
             "iban": "IBAN", "ip_address": "IP_ADDRESS", "website": "URL", "ssn": "US_SSN",
             "date_of_birth": "DATE_OF_BIRTH", "zip": "POSTAL_CODE", "customer_name": "PERSON",
             "first_name": "PERSON", "last_name": "PERSON"}
    for i in range(rows):
        first, last = FIRST[i % len(FIRST)], LAST[(i * 7) % len(LAST)]
        note, planted = _note(r, i, first, last)
        row = {
            "customer_name": _full_name(first, last, i), "first_name": first, "last_name": last,
            "email": _email(r, i, first, last), "phone": _phone(r, i), "card_number": _card(r, i),
            "iban": _iban(r, i), "ip_address": _ip(r, i), "website": _url(r, i),
            "ssn": _ssn(r, i), "date_of_birth": _dob(r, i), "zip": _postal(r, i), "notes": note,
            "age": r.randint(18, 90), "gender": r.choice(["F", "M", "X"]),
            "city": r.choice(["Leeds", "Lyon", "Austin", "Porto", "Graz"]),
            "occupation": r.choice(["nurse", "teacher", "engineer", "driver", "chef"]),
            "purchase_total": round(r.uniform(5, 900), 2),
            "product_code": f"SKU-{r.randint(1000, 99999)}",
        }
        for col, value in row.items():
            table[col].append(value)
        truth += [(i, col, ent, row[col]) for col, ent in whole.items()]
        truth += [(i, "notes", ent, value) for ent, value in planted]
    return pd.DataFrame(table), pd.DataFrame(truth, columns=["row", "column", "entity", "value"])


def make_house_like(rows: int = 600, seed: int = 3) -> pd.DataFrame:
    """A PII-free house-price table: measurements, categories and listing descriptions."""
    rng = np.random.default_rng(seed)
    hoods = ["Riverside", "Old Town", "Northgate", "Hillcrest", "Lakeview", "Mill Park"]
    styles = ["colonial", "ranch", "bungalow", "townhouse", "craftsman", "split-level"]
    sqft = rng.integers(450, 4200, rows)
    beds = np.clip(sqft // 700 + rng.integers(0, 2, rows), 1, 7)
    year = rng.integers(1900, 2024, rows)
    hood = rng.choice(hoods, rows)
    style = rng.choice(styles, rows)
    price = (80_000 + 180 * sqft + 9_000 * beds + 400 * (year - 1900)).round(-2)
    desc = [f"{s.capitalize()} with {b} bedrooms in {h}, built {y}, {q:,} sqft. Updated kitchen, "
            f"lot {lot:.2f} acres, HOA ${hoa}/mo, MLS #{mls}."
            for s, b, h, y, q, lot, hoa, mls in zip(
                style, beds, hood, year, sqft, rng.uniform(0.05, 2.0, rows),
                rng.integers(0, 400, rows), rng.integers(100000, 999999, rows), strict=True)]
    return pd.DataFrame({
        "sqft": sqft, "bedrooms": beds, "bathrooms": rng.choice([1, 1.5, 2, 2.5, 3], rows),
        "neighborhood": hood, "style": style, "year_built": year,
        "lot_acres": rng.uniform(0.05, 2.0, rows).round(2),
        "garage_spaces": rng.integers(0, 4, rows),
        "condition": rng.choice(["poor", "fair", "good", "excellent"], rows),
        "list_date": pd.date_range("2022-01-01", periods=rows, freq="D").strftime("%Y-%m-%d"),
        "description": desc, "price": price,
    })


if __name__ == "__main__":
    frame, planted = make_pii()
    frame.to_csv(sys.argv[1] if len(sys.argv) > 1 else "pii_sample.csv", index=False)
    if len(sys.argv) > 2:
        planted.to_csv(sys.argv[2], index=False)
