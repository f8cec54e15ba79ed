"""Generate the house-price sample: a known formula plus noise, a few missing values and a
categorical column, so a newcomer can train a regressor in one click.

The price depends non-linearly on size and age and interacts with the neighbourhood, so an MLP
has something to learn that a linear model cannot.

    python -m data.make_house_prices out.csv
"""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd

NEIGHBORHOODS = {"riverside": 1.25, "old town": 1.10, "suburbs": 0.95, "industrial": 0.75}


def make_house_prices(rows: int = 3000, seed: int = 7) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    sqft = rng.uniform(450, 3800, rows).round()
    bedrooms = np.clip((sqft / 700 + rng.normal(0, 0.7, rows)).round(), 1, 6)
    age = rng.uniform(0, 90, rows).round()
    distance = rng.gamma(2.0, 3.0, rows).round(1)  # km to the centre
    hood = rng.choice(list(NEIGHBORHOODS), rows, p=[0.2, 0.25, 0.4, 0.15])
    garage = rng.random(rows) < 0.55
    factor = np.array([NEIGHBORHOODS[h] for h in hood])
    price = (
        60_000
        + 210 * sqft * factor
        + 0.018 * sqft**2
        - 1_900 * age
        + 23 * age**2  # old houses regain value as "character" homes
        + 35_000 * np.exp(-distance / 4)
        + 12_000 * garage
        + 5_000 * bedrooms
    )
    price = price * rng.normal(1.0, 0.04, rows)
    frame = pd.DataFrame({
        "sqft": sqft, "bedrooms": bedrooms, "year_built": 2026 - age, "distance_km": distance,
        "neighborhood": hood, "garage": np.where(garage, "yes", "no"), "price": price.round(-2),
    })
    for col, share in (("year_built", 0.03), ("distance_km", 0.02), ("neighborhood", 0.02)):
        holes = rng.random(rows) < share
        frame.loc[holes, col] = np.nan
    return frame


if __name__ == "__main__":
    make_house_prices().to_csv(sys.argv[1] if len(sys.argv) > 1 else "house_prices.csv", index=False)
