"""Generate Loupe's built-in labelled product-review set ("sample:reviews").

Why generated instead of downloaded: Loupe must work offline and ship no third-party text, and a
sentiment demo needs labels that are right by construction. Every review is assembled from an
explicit verdict sentence plus aspect sentences whose polarity is known — including negated
phrases ("the battery life is not disappointing at all" is positive) and the odd contrasting
remark ("the only downside is ...") that never outweighs the verdict. Lengths are deliberately
skewed (mostly one to four sentences, a tail of long rambling reviews) so that dynamic padding and
length-grouped batching matter, as they do on real data.

The same seed always gives the same rows, so run fingerprints are stable::

    python data/make_reviews.py --out data/samples/reviews.csv   # write a CSV copy
    from data.make_reviews import load_reviews                  # or build it in memory
"""

from __future__ import annotations

import argparse
import random
from pathlib import Path

import pandas as pd

N_ROWS = 3000
SEED = 13

# product -> aspects specific to it (generic aspects are added to every product)
PRODUCTS: dict[str, tuple[str, ...]] = {
    "pair of headphones": ("sound quality", "battery life", "noise cancelling", "ear cushioning"),
    "blender": ("motor", "jug", "speed settings", "blade assembly"),
    "backpack": ("zipper", "shoulder strap padding", "stitching", "laptop sleeve"),
    "laptop": ("keyboard", "screen", "battery life", "trackpad", "cooling fan"),
    "coffee maker": ("brewing speed", "water tank", "milk frother", "temperature control"),
    "pair of running shoes": ("cushioning", "grip", "arch support", "breathability"),
    "phone case": ("grip", "button covers", "drop protection", "finish"),
    "desk lamp": ("brightness", "dimmer", "hinge", "colour temperature"),
    "vacuum cleaner": ("suction", "dust bin", "battery life", "brush roll"),
    "tent": ("waterproofing", "poles", "zips", "ventilation"),
    "board game": ("rulebook", "artwork", "game pieces", "replay value"),
    "smartwatch": ("heart rate sensor", "battery life", "strap", "display", "step counter"),
    "electric kettle": ("boil time", "lid", "handle", "auto shut-off"),
    "office chair": ("lumbar support", "armrests", "seat cushion", "wheels"),
    "air fryer": ("basket", "timer", "temperature control", "non-stick coating"),
    "e-reader": ("screen", "page turn buttons", "front light", "battery life"),
    "bluetooth speaker": ("bass", "volume", "pairing", "battery life"),
    "sleeping bag": ("insulation", "zip", "stuff sack", "hood"),
    "kitchen knife set": ("blades", "handles", "knife block", "edge retention"),
    "baby monitor": ("camera", "night vision", "range", "app"),
}
GENERIC_ASPECTS = (
    "build quality", "price", "packaging", "delivery", "customer service", "design",
    "instruction manual", "value for money", "overall finish", "durability",
)
POS_ADJ = (
    "excellent", "superb", "great", "impressive", "fantastic", "solid", "outstanding",
    "reliable", "brilliant", "first-rate", "wonderful", "spot on",
)
NEG_ADJ = (
    "terrible", "awful", "poor", "disappointing", "flimsy", "mediocre", "useless",
    "dreadful", "shoddy", "frustrating", "substandard", "a letdown",
)
MILD_NEG = ("a bit underwhelming", "not perfect", "only average", "nothing special")
TIMES = (
    "last week", "two weeks ago", "a month ago", "in the spring", "for my birthday",
    "during the sale", "three months ago", "after reading the reviews", "on a whim",
)
NAMES = ("Alice", "Omar", "Priya", "Tom", "Mei", "Lukas", "Sofia", "Kwame", "Hannah", "Diego")

POS_OPENERS = (
    "I bought this {p} {t} and I love it.",
    "This {p} exceeded my expectations.",
    "Absolutely delighted with this {p}.",
    "This is the best {p} I have ever owned.",
    "I would happily buy this {p} again.",
    "This {p} did not disappoint.",
    "I have no complaints at all about this {p}.",
    "I can't say I regret buying this {p}.",
    "My new {p} is a joy to use.",
    "I was sceptical at first, but this {p} won me over.",
    "I never expected a {p} this good at this price.",
    "Honestly, this {p} is worth every penny.",
)
NEG_OPENERS = (
    "I bought this {p} {t} and I regret it.",
    "This {p} was a huge disappointment.",
    "This is the worst {p} I have ever owned.",
    "I would never buy this {p} again.",
    "Save your money and skip this {p}.",
    "This {p} is not worth the money.",
    "I can't say I am happy with this {p}.",
    "I would not recommend this {p} to anyone.",
    "My new {p} has been nothing but trouble.",
    "I wanted to like this {p}, but it let me down.",
    "I expected far more from a {p} at this price.",
    "Honestly, this {p} is a waste of money.",
)
# {be}/{do}/{s} agree with the aspect's number ("the poles are", "the motor is")
POS_ASPECT = (
    "The {a} {be} {adj}.",
    "The {a} {be} not {neg} at all.",
    "The {a} could not be better.",
    "I was really impressed by the {a}.",
    "I have nothing bad to say about the {a}.",
    "The {a} work{s} exactly as described.",
    "You will not be disappointed by the {a}.",
)
NEG_ASPECT = (
    "The {a} {be} {neg}.",
    "The {a} {be} not {adj} at all.",
    "The {a} could not be worse.",
    "I was really disappointed by the {a}.",
    "I have nothing good to say about the {a}.",
    "The {a} {do} not work as described.",
    "The {a} let me down badly.",
)
POS_CONTRAST = (
    "The only downside is that the {a} {be} {mild}.",
    "The {a} {be} {mild}, but that is a minor point.",
)
NEG_CONTRAST = (
    "The only good thing is the {a}.",
    "The {a} {be} fine, but that does not make up for the rest.",
)
POS_CLOSERS = (
    "Highly recommended.", "Five stars.", "Would buy again.", "Great value for the money.",
    "I am very happy with it.", "I recommend it to everyone.", "No regrets whatsoever.",
)
NEG_CLOSERS = (
    "One star.", "Avoid it.", "I am sending it back.", "Not recommended.",
    "I am very unhappy with it.", "I want a refund.", "Complete regret.",
)
NEUTRAL = (
    "I use it almost every day.", "It arrived in a plain brown box.", "My sister suggested it.",
    "I ordered the grey one.", "I compared it with two other brands first.",
    "It replaced an older model I had for years.", "I mostly use it at weekends.",
    "It took a few minutes to set up.",
)
CONTACT = (
    "Feel free to ask me, {n}, about it at {e}.",
    "Written by {n}; reach me at {e} with questions.",
)


def _agree(aspect: str) -> dict[str, str]:
    """Verb forms for an aspect: "the wheels are", "the motor is" ("bass" is not a plural)."""
    plural = aspect.endswith("s") and not aspect.endswith("ss")
    return {"a": aspect, "be": "are" if plural else "is", "do": "do" if plural else "does",
            "s": "" if plural else "s"}


def _aspect_sentence(rng: random.Random, positive: bool, aspect: str, functional: bool) -> str:
    """One aspect remark; "works as described" only fits parts of the product, not its price."""
    options = [t for t in (POS_ASPECT if positive else NEG_ASPECT) if functional or "work" not in t]
    template = rng.choice(options)
    return template.format(adj=rng.choice(POS_ADJ), neg=rng.choice(NEG_ADJ), **_agree(aspect))


def _review(rng: random.Random, positive: bool) -> tuple[str, str]:
    """One review whose overall polarity is ``positive`` by construction."""
    product = rng.choice(list(PRODUCTS))
    aspects = list(PRODUCTS[product]) + list(GENERIC_ASPECTS)
    rng.shuffle(aspects)
    # skewed lengths: many short reviews, a long tail of rambling ones
    size = rng.choices((0, 1, 2, 3, 5, 9, 13), weights=(26, 32, 20, 10, 6, 4, 2))[0]
    opener = rng.choice(POS_OPENERS if positive else NEG_OPENERS)
    parts = [opener.format(p=product, t=rng.choice(TIMES))]
    for aspect in aspects[:size]:
        if rng.random() < 0.1:
            parts.append(rng.choice(NEUTRAL))
        parts.append(_aspect_sentence(rng, positive, aspect, aspect in PRODUCTS[product]))
    if size >= 2 and rng.random() < 0.25:  # a contrasting remark never outweighs the verdict
        contrast = rng.choice(POS_CONTRAST if positive else NEG_CONTRAST)
        parts.append(contrast.format(mild=rng.choice(MILD_NEG), **_agree(aspects[size])))
    if size == 0 or rng.random() < 0.5:
        parts.append(rng.choice(POS_CLOSERS if positive else NEG_CLOSERS))
    if rng.random() < 0.03:  # a little personal data, so masking has something to do
        name = rng.choice(NAMES)
        email = f"{name.lower()}{rng.randint(1, 99)}@example.com"
        parts.append(rng.choice(CONTACT).format(n=name, e=email))
    return " ".join(parts), product


def make_reviews(n: int = N_ROWS, seed: int = SEED) -> pd.DataFrame:
    """``n`` unique reviews, half positive and half negative, in a shuffled deterministic order.

    Columns: ``text``, ``label`` ("positive"/"negative") and ``product`` (a low-cardinality
    column, so column auto-detection has a decoy to get right).
    """
    rng = random.Random(seed)
    seen: set[str] = set()
    rows: list[tuple[str, str, str]] = []
    for i in range(n):
        positive = i % 2 == 0
        for _ in range(1000):
            text, product = _review(rng, positive)
            if text not in seen:
                break
        seen.add(text)
        rows.append((text, "positive" if positive else "negative", product))
    rng.shuffle(rows)
    return pd.DataFrame(rows, columns=["text", "label", "product"])


def load_reviews() -> pd.DataFrame:
    """The built-in sample behind ``DataConfig.source = "sample:reviews"``."""
    return make_reviews()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "samples/reviews.csv")
    parser.add_argument("--rows", type=int, default=N_ROWS)
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args(argv)
    frame = make_reviews(args.rows, args.seed)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(args.out, index=False)
    print(f"wrote {len(frame)} reviews to {args.out}")


if __name__ == "__main__":
    main()
