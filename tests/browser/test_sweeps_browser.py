"""Start a sweep from the Sweeps page in headless Chromium and watch it finish (real server, the
sweep driven by its own child process, each trial another).

`python -m tests.browser.test_sweeps_browser HOME OUT_DIR [PORT]` takes the same steps for a
screenshot by hand."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.browser.harness import (
    CHROMIUM,
    assert_no_exception,
    browser,
    goto,
    screenshot,
    serve,
    wait_idle,
)

FINISH_TIMEOUT_S = 600


def sweep_logs(home: Path) -> str:
    return "\n".join(log.read_text(errors="replace")[-3000:]
                     for log in sorted(home.glob("sweeps/*/sweep.log")))


def start_the_sweep(page: Any, home: Path) -> None:
    """Click Start and wait for "Started sweep". A refusal fails with its message. A click that
    a loaded machine loses (the page was mid-run: no sweep recorded, no message) is repeated
    once, as a person would."""
    for _attempt in range(2):
        page.get_by_role("button", name="Start sweep").click()
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if page.get_by_text("Started sweep", exact=False).count():
                return
            alerts = page.locator('[data-testid="stAlert"]')
            texts = [alerts.nth(i).inner_text() for i in range(alerts.count())]
            refused = [t for t in texts if "Sweep:" in t]
            assert not refused, f"the sweep was refused: {refused}"
            assert_no_exception(page)
            page.wait_for_timeout(1000)
        recorded = list(home.glob("sweeps/*"))
        assert not recorded, f"a sweep was recorded but the page never said so: {recorded}"
        wait_idle(page, 120)
    raise AssertionError("two clicks on Start sweep started nothing and showed no message")


def sweep_journey(home: Path, out: Path | None, port: int | None = None) -> str:
    """Returns the final status text of the sweep."""
    with serve(home, port=port) as url, browser() as page:
        goto(page, url, "sweeps")
        page.get_by_role("button", name="Start sweep").wait_for(timeout=60_000)
        # 2 trials; the epochs range (the third range of the tabular space: lr, dropout, epochs,
        # …) -> 1..2. Each value is committed (Tab) and its rerun awaited before the next one: on
        # a loaded machine a rerun still in flight can redraw a box typed into meanwhile, so each
        # box is read back and typed again if it lost its value.
        boxes = [(page.get_by_label("Trials", exact=True).first, "2"),
                 (page.get_by_label("Low", exact=True).nth(2), "1"),
                 (page.get_by_label("High", exact=True).nth(2), "2")]
        for _attempt in range(3):
            for box, value in boxes:
                if box.input_value() != value:
                    box.fill(value)
                    box.press("Tab")
                    wait_idle(page, 120)
            if all(box.input_value() == value for box, value in boxes):
                break
        start_the_sweep(page, home)
        deadline = time.monotonic() + FINISH_TIMEOUT_S
        while time.monotonic() < deadline:
            assert_no_exception(page)
            if page.get_by_text("status completed", exact=False).count():
                break
            for end in ("failed", "interrupted", "cancelled"):  # fail now, not after the timeout
                assert not page.get_by_text(f"status {end}", exact=False).count(), \
                    f"the sweep ended {end}:\n{sweep_logs(home)}"
            page.wait_for_timeout(1000)
        page.locator('[data-testid="stPlotlyChart"]').first.wait_for(timeout=60_000)
        page.wait_for_timeout(1500)
        wait_idle(page, 120)  # the full rerun after the sweep finished
        screenshot(page, out, "sweeps")
        return page.get_by_text("status ", exact=False).first.inner_text()


@pytest.mark.browser
@pytest.mark.slow
def test_start_a_sweep_in_the_browser_and_see_it_finish(tmp_path: Path) -> None:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM} (make browser-deps installs it)")
    status = sweep_journey(tmp_path / "home", tmp_path / "shots")
    assert "completed" in status, sweep_logs(tmp_path / "home")
    assert (tmp_path / "shots" / "sweeps.png").stat().st_size > 10_000


if __name__ == "__main__":
    sweep_journey(Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3]) if len(sys.argv) > 3 else None)
