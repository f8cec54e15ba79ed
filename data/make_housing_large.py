"""Generate a California-housing-like table offline (the benchmark's largest realistic table).

Structure modelled on the 1990 census block groups: districts cluster around a few cities on a
coastline; median income is log-normal; rooms, bedrooms, population and households are counts
that scale together; ``total_bedrooms`` has missing cells; ``ocean_proximity`` is categorical.
The median house value rises with income (saturating), falls with distance to the nearest city
and to the coast, depends on proximity, is noisy on a multiplicative scale and is capped at
500,001 as the census capped it. Nothing here is real data.

    python -m data.make_housing_large out.csv [rows]
"""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd

CITIES = np.array([[-118.25, 34.05], [-122.42, 37.77], [-117.16, 32.72], [-121.49, 38.58],
                   [-119.79, 36.74]])
PROXIMITY = {"<1H OCEAN": 1.00, "INLAND": 0.62, "NEAR OCEAN": 1.08, "NEAR BAY": 1.12, "ISLAND": 1.6}


def make_housing_large(rows: int = 20_640, seed: int = 11) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    city = rng.choice(len(CITIES), rows, p=[0.4, 0.25, 0.12, 0.1, 0.13])
    spread = rng.gamma(1.5, 0.35, rows)[:, None] * rng.normal(size=(rows, 2))
    lon, lat = (CITIES[city] + spread).T
    coast = np.abs(lon - (-124.3 + 0.85 * (42 - lat)))  # degrees from a slanted coastline
    city_km = np.hypot(*(spread.T)) * 100
    inland = coast > 1.1
    proximity = np.where(inland, "INLAND", np.where(coast < 0.25, "NEAR OCEAN", "<1H OCEAN"))
    proximity[(city == 1) & ~inland & (rng.random(rows) < 0.6)] = "NEAR BAY"
    proximity[rng.random(rows) < 0.0003] = "ISLAND"
    income = np.clip(rng.lognormal(1.25, 0.45, rows) * np.where(inland, 0.85, 1.05), 0.5, 15.0)
    age = np.clip(rng.normal(29, 12.5, rows).round(), 1, 52)
    households = np.clip(rng.lognormal(6.0, 0.6, rows), 2, 6000).round()
    rooms = (households * np.clip(rng.normal(5.2, 1.2, rows) + 0.15 * income, 1.5, 15)).round()
    bedrooms = (rooms * np.clip(rng.normal(0.21, 0.03, rows), 0.1, 0.5)).round()
    population = (households * np.clip(rng.lognormal(1.0, 0.3, rows), 1.0, 12)).round()
    factor = np.array([PROXIMITY[p] for p in proximity])
    value = (45_000 + 160_000 * np.log1p(income) ** 1.4 * factor
             * np.exp(-city_km / 180) * (1 + 0.004 * age) * np.exp(-0.02 * np.maximum(coast, 0))
             * (1 - 0.05 * np.log(population / households)))
    value = np.minimum(value * rng.lognormal(0, 0.22, rows), 500_001).round(-2)
    frame = pd.DataFrame({
        "longitude": lon.round(2), "latitude": lat.round(2), "housing_median_age": age,
        "total_rooms": rooms, "total_bedrooms": bedrooms, "population": population,
        "households": households, "median_income": income.round(4),
        "ocean_proximity": proximity, "median_house_value": value,
    })
    frame.loc[rng.random(rows) < 0.01, "total_bedrooms"] = np.nan
    return frame


if __name__ == "__main__":
    out = sys.argv[1] if len(sys.argv) > 1 else "housing_large.csv"
    make_housing_large(int(sys.argv[2]) if len(sys.argv) > 2 else 20_640).to_csv(out, index=False)
    print(f"wrote {out}")
