"""Runs → Manage in a real browser: after a rename the picker shows the new name (issue 15).

The picker's label is drawn by the browser from the widget's state, so only a browser shows the
bug (AppTest reads the new options from the script and passes either way)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.browser.harness import CHROMIUM, assert_no_exception, browser, goto, serve, wait_idle


def _shown(picker) -> str:
    """What the selectbox shows: its text, or its input's value (a searchable select)."""
    inputs = picker.locator("input")
    values = [inputs.nth(i).input_value() for i in range(inputs.count())]
    return " ".join([picker.inner_text(), *values])


@pytest.mark.browser
@pytest.mark.slow
def test_rename_shows_in_the_manage_picker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM} (make browser-deps installs it)")
    from core.store import RunStore
    from tests.dashboard.conftest import seed_runs

    home = tmp_path / "home"
    monkeypatch.setenv("LOUPE_HOME", str(home))
    seed_runs(RunStore(), n=2, points=0)
    with serve(home) as url, browser() as page:
        goto(page, url, "runs", timeout=240)  # the first page load imports torch
        grid = page.locator('[data-testid="stDataFrame"]').first
        grid.wait_for(timeout=30_000)
        page.wait_for_timeout(500)
        box = grid.bounding_box()
        page.mouse.click(box["x"] + 18, box["y"] + 35 + 17)  # the first row's checkbox
        page.get_by_role("tab", name="Manage").click()
        picker = page.locator('[data-testid="stSelectbox"]').filter(has_text="Run").last
        picker.wait_for(timeout=30_000)
        old = _shown(picker)
        name_box = page.get_by_label("Name", exact=True).first
        name_box.fill("renamed-by-browser")
        page.get_by_role("button", name="Save changes").click()
        shown = ""
        for _ in range(240):  # the save reruns the page; the picker is what a person reads
            page.wait_for_timeout(500)
            picker = page.locator('[data-testid="stSelectbox"]').filter(has_text="Run").last
            shown = _shown(picker) if picker.count() else ""
            if "renamed-by-browser" in shown:
                break
        wait_idle(page)
        assert_no_exception(page)
    assert "renamed-by-browser" in shown, (old, shown)
