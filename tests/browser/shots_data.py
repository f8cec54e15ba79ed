"""Screenshots of issue 15's data items in headless Chromium, on data Loupe did not generate:
a 1-epoch image run on real cat and dog photos (its metrics chart), the Data page's kept uploads
with a California-housing-like table and scikit-learn's diabetes table (missing values, column
roles), and a Predict batch of a class-folder zip. Writes PNGs and prints the steps' seconds:

    .venv/bin/python -m tests.browser.shots_data --out docs/screenshots [--port 8606]
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from tests.browser.harness import assert_no_exception, browser, goto, screenshot, serve, wait_idle

PHOTOS = Path(__file__).resolve().parents[3] / "shared" / "data" / "cats-dogs-photos"


def _element_shot(page: Any, locator: Any, path: Path) -> None:
    locator.scroll_into_view_if_needed()
    page.mouse.move(1, 1)
    page.wait_for_timeout(800)
    locator.screenshot(path=str(path))


def train_one_epoch(home: Path) -> str:
    """A real 1-epoch image run (small CNN, no pretrained weights) on the shared photos."""
    os.environ["LOUPE_HOME"] = str(home)
    from core.config import RunConfig
    from core.store import RunStore
    from core.train import train

    cfg = RunConfig(task="image", name="cats-dogs-1-epoch").replace(
        data={"source": str(PHOTOS)}, model={"name": "small_cnn", "image_size": 64, "pretrained": False},
        train={"epochs": 1, "batch_size": 32, "device": "cpu"})
    return train(cfg, RunStore()).run_id


def tables(folder: Path) -> tuple[Path, Path]:
    from sklearn.datasets import load_diabetes

    from tests.core.test_privacy_context import housing_frame

    housing = housing_frame(2000)
    rng = np.random.default_rng(0)
    housing.loc[rng.choice(len(housing), 20, replace=False), "total_bedrooms"] = np.nan  # 1%
    housing.to_csv(folder / "california_housing.csv", index=False)
    load_diabetes(as_frame=True).frame.to_csv(folder / "diabetes.csv", index=False)
    return folder / "california_housing.csv", folder / "diabetes.csv"


def photo_zip(folder: Path) -> Path:
    tree = folder / "pets"
    for label in ("cats", "dogs"):
        (tree / label).mkdir(parents=True, exist_ok=True)
        for photo in sorted((PHOTOS / label).glob("*.jpg"))[-6:]:
            shutil.copy(photo, tree / label / photo.name)
    return Path(shutil.make_archive(str(folder / "pets"), "zip", tree))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("docs/screenshots"))
    parser.add_argument("--port", type=int, default=None)
    args = parser.parse_args()
    out = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    seconds: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="loupe_shots_") as tmp:
        home = Path(tmp) / "home"
        started = time.perf_counter()
        train_one_epoch(home)
        seconds["train 1 epoch (300 photos)"] = time.perf_counter() - started
        housing, diabetes = tables(Path(tmp))
        archive = photo_zip(Path(tmp))
        with serve(home, port=args.port) as url, browser(width=1300, height=900) as page:
            started = time.perf_counter()
            goto(page, url, "train")
            page.get_by_text("Test scores:").first.wait_for(timeout=60_000)
            wait_idle(page)
            charts = page.locator('[data-testid="stPlotlyChart"]')
            charts.nth(1).wait_for(timeout=30_000)
            _element_shot(page, charts.nth(1), out / "metrics-one-epoch.png")
            _element_shot(page, charts.nth(0), out / "loss-one-epoch.png")
            assert_no_exception(page)
            seconds["train page"] = time.perf_counter() - started

            started = time.perf_counter()
            goto(page, url, "data")
            uploader = page.locator('input[type="file"]').first
            uploader.set_input_files(str(diabetes))  # clean: nothing missing, no personal data
            page.get_by_text("Preview (masked)").first.wait_for(timeout=90_000)
            wait_idle(page, 90)
            page.get_by_role("tab", name="Profile").click()
            wait_idle(page)
            _element_shot(page, page.locator('[data-testid="stPlotlyChart"]').filter(
                has_text="Missing values").first, out / "data-missing-values-clean.png")
            uploader.set_input_files(str(housing))
            page.get_by_text("Your uploads (2)").first.wait_for(timeout=90_000)
            wait_idle(page, 90)
            goto(page, url, "home")
            goto(page, url, "data")  # coming back: the uploads are still there
            page.get_by_text("Your uploads (2)").first.wait_for(timeout=60_000)
            wait_idle(page, 60)
            assert_no_exception(page)
            screenshot(page, out, "data-uploads-kept")
            _element_shot(page, page.locator('[data-testid="stPlotlyChart"]').filter(
                has_text="Column roles").first, out / "data-column-roles.png")
            page.get_by_role("tab", name="Profile").click()
            wait_idle(page)
            _element_shot(page, page.locator('[data-testid="stPlotlyChart"]').filter(
                has_text="Missing values").first, out / "data-missing-values.png")
            seconds["data page"] = time.perf_counter() - started

            started = time.perf_counter()
            goto(page, url, "predict")
            page.get_by_role("tab", name="A file of inputs").click()
            page.locator('input[type="file"]').last.set_input_files(str(archive))
            page.get_by_text("predictions.").first.wait_for(timeout=120_000)
            wait_idle(page, 120)
            assert_no_exception(page)
            screenshot(page, out, "predict-batch-tree")
            seconds["predict batch"] = time.perf_counter() - started
    for step, value in seconds.items():
        print(f"{step}: {value:.1f} s")


if __name__ == "__main__":
    main()
