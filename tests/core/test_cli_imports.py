"""`loupe --help`, `loupe runs` and `loupe samples` answer without torch, transformers or pandas
(issue 17: well under a second). Each command runs through ``core.cli.main`` in a fresh interpreter
with an empty LOUPE_HOME; what it imported is read from ``sys.modules`` (pinned by imports, not
timing)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("torch", "transformers", "accelerate", "shap", "lightgbm", "sklearn", "streamlit", "pandas")

CODE = """
import contextlib, io, json, sys
from core.cli import main
out = io.StringIO()
with contextlib.redirect_stdout(out), contextlib.suppress(SystemExit):
    code = main(sys.argv[1:])
print(json.dumps({"out": out.getvalue(), "modules": sorted({m.split(".")[0] for m in sys.modules})}))
"""


def _imports(args: list[str], home: Path) -> dict:
    env = {**os.environ, "LOUPE_HOME": str(home)}
    done = subprocess.run([sys.executable, "-c", CODE, *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, check=True)
    got = json.loads(done.stdout.strip().splitlines()[-1])
    return {"out": got["out"], "heavy": [m for m in HEAVY if m in got["modules"]]}


@pytest.mark.parametrize("args", [["--help"], ["runs"], ["runs", "--json"], ["samples"],
                                  ["samples", "--json"]])
def test_light_commands_import_no_torch(args: list[str], tmp_path: Path) -> None:
    got = _imports(args, tmp_path)
    assert got["heavy"] == [], f"`loupe {' '.join(args)}` imported {got['heavy']}"
    assert got["out"].strip(), "the command printed nothing"


def test_runs_lists_a_finished_run_without_torch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With a run in the history, `loupe runs` still needs neither torch nor the kinds' modules."""
    monkeypatch.setenv("LOUPE_HOME", str(tmp_path))
    from core.config import RunConfig
    from core.store import RunStore

    store = RunStore()
    cfg = RunConfig.from_dict({"task": "tabular", "name": "light", "data": {"source": "sample:diabetes"}})
    run_id = store.create_run(cfg)
    store.start_run(run_id, device="cpu", precision="fp32")
    store.finish_run(run_id, {"test_r2": 0.5})
    got = _imports(["runs"], tmp_path)
    assert run_id in got["out"] and "test_r2=0.5" in got["out"], got["out"]
    assert got["heavy"] == [], got["heavy"]
