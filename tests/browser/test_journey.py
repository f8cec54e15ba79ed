"""The main journey in headless Chromium against a real server (see journey.py for the steps)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.browser.harness import CHROMIUM
from tests.browser.journey import explain_available, run_journey

SHOTS = ("home", "train_live", "train", "data", "runs", "predict", "explain", "export")


@pytest.mark.browser
@pytest.mark.slow
def test_journey_train_compare_predict_explain(tmp_path: Path) -> None:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM} (make browser-deps installs it)")
    shots = tmp_path / "screenshots"
    result = run_journey(tmp_path / "home", shots)
    for name in SHOTS:
        assert (shots / f"{name}.png").stat().st_size > 10_000, name
    assert result["shap_chart"] == explain_available()
