"""The journey on real-looking data, one short run per kind (see real_journey.py for the steps)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.browser.harness import CHROMIUM
from tests.browser.real_journey import KINDS, PHOTOS, run_real_journey

STEPS = ("data", "train", "runs", "predict", "explain", "export")


@pytest.mark.browser
@pytest.mark.slow
def test_journey_per_kind_on_real_data(tmp_path: Path) -> None:
    if os.environ.get("LOUPE_REAL_JOURNEY") == "skip":
        pytest.skip("LOUPE_REAL_JOURNEY=skip: CI runs this ten-minute journey on one Python per lane")
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM} (make browser-deps installs it)")
    shots = Path(os.environ.get("LOUPE_SCREENSHOTS") or tmp_path / "screenshots")
    result = run_real_journey(tmp_path / "home", shots)
    done = [k for k in KINDS if k in result["seconds"]]
    assert done == [k for k in KINDS if k != "image" or PHOTOS.is_dir()], result
    for kind in done:
        assert tuple(result["seconds"][kind]) == STEPS
        for step in ("data", "train", "runs", "predict", "explain", "export"):
            assert (shots / f"journey_{kind}_{step}.png").stat().st_size > 10_000, (kind, step)
    if "text" in done:
        assert (shots / "journey_text_attention.png").stat().st_size > 10_000
    print(result)  # seconds per kind and step (pytest -s shows them)
