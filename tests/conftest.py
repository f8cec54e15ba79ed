"""Shared fixtures: every test gets its own LOUPE_HOME; no test reaches a model hub."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
# CI runs two Pythons side by side on its cores and sets LOUPE_TEST_THREADS (and OMP_NUM_THREADS,
# for the `loupe` subprocesses) to its share, so the lanes do not oversubscribe the CPU.
torch.set_num_threads(int(os.environ.get("LOUPE_TEST_THREADS", "2")))

ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = ROOT.parent / "shared" / "data"


@pytest.fixture(autouse=True)
def loupe_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "loupe_home"
    monkeypatch.setenv("LOUPE_HOME", str(home))
    return home


@pytest.fixture
def store(loupe_home: Path):
    from core.store import RunStore

    return RunStore()
