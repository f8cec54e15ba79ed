"""The Export page's "Compress and serve" panel for a LightGBM tree run: fp32 ONNX only, and it
says why there is no int8 form (issue 21)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.dashboard.conftest import no_exception, open_page

pytest.importorskip("onnxmltools")


def test_tree_run_export_panel_offers_onnx_and_says_why_not_int8(loupe_home: Path) -> None:
    from core.config import DataConfig, ModelConfig, RunConfig, TrainConfig
    from core.store import RunStore
    from core.train import train

    cfg = RunConfig(task="tabular", name="trees", model=ModelConfig(name="trees"),
                    data=DataConfig(source="sample:diabetes", target="progression"),
                    train=TrainConfig(device="cpu"))
    assert train(cfg, RunStore()).status == "completed"
    at = open_page("export")
    no_exception(at)
    assert any("no int8 form" in i.value for i in at.info)
    next(b for b in at.button if b.label == "Check ONNX").click().run()
    no_exception(at)
    table = at.dataframe[0].value
    assert set(table["format"]) == {"original", "onnx"}
    commands = " ".join(c.value for c in at.code)
    assert "--format onnx " in commands and "onnx-int8" not in commands
