"""The main journey in a real browser: try a sample → train → Runs → Predict → Explain → Export.

Used by ``tests/browser/test_journey.py`` (screenshots to a temporary folder) and runnable as a
script to refresh the README screenshots:

    .venv/bin/python -m tests.browser.journey --out docs/screenshots
"""

from __future__ import annotations

import argparse
import importlib.util
import tempfile
import time
from pathlib import Path
from typing import Any

from tests.browser.harness import assert_no_exception, browser, goto, screenshot, serve, wait_idle

TRAIN_TIMEOUT_S = 150


def _has(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


def explain_available() -> bool:
    if not _has("core.explain.figures"):
        return False
    import core.explain as ex

    return hasattr(ex, "explain")


def _text(page: Any, text: str, timeout: float = 60.0) -> None:
    page.get_by_text(text, exact=False).first.wait_for(timeout=timeout * 1000)


def _click(page: Any, name: str) -> None:
    page.get_by_role("button", name=name, exact=True).first.click()


def train_tiny_run(page: Any, url: str, out: Path | None, epochs: int = 1) -> None:
    goto(page, url, "home")
    screenshot(page, out, "home")
    _click(page, "Try house_prices")
    page.wait_for_url("**/train", timeout=60_000)
    wait_idle(page)
    epochs_box = page.get_by_label("Epochs", exact=True).first
    epochs_box.wait_for(timeout=60_000)
    epochs_box.fill(str(epochs))
    epochs_box.press("Tab")
    _click(page, "Start training")
    _text(page, "Started run", 90)
    live = False
    deadline = time.monotonic() + TRAIN_TIMEOUT_S
    while time.monotonic() < deadline:
        if page.get_by_text("Test scores:").count():
            break
        if not live and page.get_by_text("Runs in progress (1)").count() and \
                page.locator('[data-testid="stPlotlyChart"]').count():
            wait_idle(page)
            screenshot(page, out, "train_live")  # running, with live curves
            live = True
        failed = page.get_by_text("Training failed").count()
        assert not failed, page.get_by_text("Training failed").first.inner_text()
        page.wait_for_timeout(500)
    else:
        raise AssertionError("the run did not finish within the time limit")
    wait_idle(page)
    assert_no_exception(page)
    if not live:  # finished between two looks: the final state stands in for the live one
        screenshot(page, out, "train_live")
    screenshot(page, out, "train")


def data_page(page: Any, url: str, out: Path | None, upload: Path) -> None:
    """Upload a table full of (planted) personal data: the preview must come up masked."""
    goto(page, url, "data")
    page.locator('input[type="file"]').first.set_input_files(str(upload))
    _text(page, "Preview (masked)", 90)
    wait_idle(page, 90)
    page.locator('[data-testid="stPlotlyChart"]').first.wait_for(timeout=30_000)
    assert_no_exception(page)
    screenshot(page, out, "data")


def runs_page(page: Any, url: str, out: Path | None) -> None:
    goto(page, url, "runs")
    grid = page.locator('[data-testid="stDataFrame"]').first
    grid.wait_for(timeout=30_000)
    page.wait_for_timeout(500)
    box = grid.bounding_box()
    page.mouse.click(box["x"] + 18, box["y"] + 35 + 17)  # row-selection checkbox of the first row
    _text(page, "Hyperparameters", 30)
    wait_idle(page)
    page.locator('[data-testid="stPlotlyChart"]').first.wait_for(timeout=30_000)
    assert_no_exception(page)
    screenshot(page, out, "runs")


def predict_page(page: Any, url: str, out: Path | None) -> None:
    goto(page, url, "predict")
    _click(page, "Predict")
    _text(page, "Predicted price", 60)
    wait_idle(page)
    assert_no_exception(page)
    screenshot(page, out, "predict")


def explain_page(page: Any, url: str, out: Path | None) -> bool:
    """Returns whether a SHAP chart was drawn (False while core.explain has not landed)."""
    goto(page, url, "explain")
    if not explain_available():
        _text(page, "Explanations arrive with core.explain")
        assert_no_exception(page)
        screenshot(page, out, "explain")
        return False
    _click(page, "Explain")  # one click: the row form's own button explains
    page.locator('[data-testid="stPlotlyChart"]').first.wait_for(timeout=120_000)
    wait_idle(page, 120)
    assert_no_exception(page)
    screenshot(page, out, "explain")
    return True


def export_page(page: Any, url: str, out: Path | None) -> None:
    goto(page, url, "export")
    if page.get_by_role("button", name="Prepare model zip").count():
        _click(page, "Prepare model zip")
        page.get_by_role("button", name="Download model folder (.zip)").wait_for(timeout=60_000)
        wait_idle(page)
    assert_no_exception(page)
    screenshot(page, out, "export")


def run_journey(home: Path, out: Path | None, epochs: int = 1) -> dict[str, Any]:
    """The whole journey against a fresh server; returns what happened (for the test's asserts)."""
    from data.make_pii import make_pii

    home.mkdir(parents=True, exist_ok=True)
    upload = home.parent / "customers.csv"
    make_pii(120)[0].to_csv(upload, index=False)
    timings: dict[str, float] = {}
    with serve(home) as url, browser() as page:
        steps = [("train", lambda: train_tiny_run(page, url, out, epochs)),
                 ("data", lambda: data_page(page, url, out, upload)),
                 ("runs", lambda: runs_page(page, url, out)),
                 ("predict", lambda: predict_page(page, url, out)),
                 ("explain", lambda: explain_page(page, url, out)),
                 ("export", lambda: export_page(page, url, out))]
        result: dict[str, Any] = {}
        try:
            for name, step in steps:
                started = time.perf_counter()
                result[name] = step()
                timings[name] = round(time.perf_counter() - started, 1)
        except Exception:
            page.screenshot(path=str((out or home) / "failure.png"), full_page=True)
            raise
    return {"shap_chart": bool(result.get("explain")), "seconds": timings}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("docs/screenshots"))
    parser.add_argument("--epochs", type=int, default=8, help="long enough to catch live curves")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="loupe_journey_") as tmp:
        started = time.perf_counter()
        result = run_journey(Path(tmp) / "home", args.out, args.epochs)
    print(f"journey done in {time.perf_counter() - started:.0f} s; screenshots in {args.out}; {result}")


if __name__ == "__main__":
    main()
