"""A damaged run history: blocks of a real ``loupe.duckdb`` overwritten mid-file.

Documented outcome: ``runs``, ``show`` and ``train`` exit with status 2 and one message that names
the file and the recovery step (``loupe doctor --repair``), the dashboard shows it with
``st.error``, and ``loupe doctor --repair`` keeps the damaged file (``loupe.duckdb.corrupt-<time>``),
builds a fresh history with every row it can still read, and leaves the run folders alone.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from core.config import RunConfig
from core.store import RunStore
from tests.hostile.conftest import assert_cli_error, cli, open_dashboard_page

BLOCK = 256 * 1024  # DuckDB's block size
HEADERS = 3 * 4096  # file header and the two database headers


def _store_with_history(home: Path) -> tuple[Path, list[str]]:
    store = RunStore(home / "loupe.duckdb")
    ids = [store.create_run(RunConfig(task="tabular", name=f"run {i}")) for i in range(3)]
    n = 300_000
    store.append_metrics(pd.DataFrame({
        "run_id": np.repeat(ids, n // 3), "step": np.arange(n), "epoch": 0.0, "split": "train",
        "name": "loss", "value": np.linspace(0, 1, n), "time": pd.Timestamp("2026-01-01")}))
    for run_id in ids:
        (store.run_dir(run_id) / "model").mkdir()
    return store.path, ids


def _overwrite(path: Path, offsets: range) -> None:
    with open(path, "r+b") as handle:
        for offset in offsets:
            handle.seek(offset)
            handle.write(bytes(range(256)) * (BLOCK // 256))


def test_damaged_store_is_a_clear_error_everywhere_and_doctor_rebuilds_it(loupe_home: Path) -> None:
    db, ids = _store_with_history(loupe_home)
    _overwrite(db, range(HEADERS, db.stat().st_size, 2 * BLOCK))  # every other block
    for args in (["runs"], ["show", ids[0]],
                 ["train", "tabular", "--data", "sample:diabetes", "--epochs", "1"]):
        assert_cli_error(cli(loupe_home, *args), str(db), "damaged", "loupe doctor --repair")

    at = open_dashboard_page("runs")
    assert not at.exception, at.exception
    assert any("loupe doctor --repair" in e.value for e in at.error), [e.value for e in at.error]

    check = cli(loupe_home, "doctor")
    assert check.returncode == 1 and "loupe doctor --repair" in check.stdout, check.stdout
    repaired = cli(loupe_home, "doctor", "--repair")
    assert repaired.returncode == 1, repaired.stdout + repaired.stderr  # orphans remain: reported
    kept = sorted(loupe_home.glob("loupe.duckdb.corrupt-*"))
    assert len(kept) == 1 and kept[0].read_bytes()[HEADERS:HEADERS + 256] == bytes(range(256))
    assert "--remove-orphans" in repaired.stdout  # the run folders were kept, not deleted
    assert all((loupe_home / "runs" / run_id / "model").is_dir() for run_id in ids)
    runs = cli(loupe_home, "runs")
    assert runs.returncode == 0 and "no runs yet" in runs.stdout, runs.stderr


def test_doctor_salvages_the_readable_rows_of_a_partly_damaged_store(loupe_home: Path) -> None:
    db, ids = _store_with_history(loupe_home)
    size = db.stat().st_size
    _overwrite(db, range(size // 2, size // 2 + BLOCK, BLOCK))  # one block of metric values
    check = cli(loupe_home, "doctor")
    assert check.returncode == 1 and "damaged" in check.stdout, check.stdout + check.stderr
    repaired = cli(loupe_home, "doctor", "--repair")
    assert repaired.returncode == 0, repaired.stdout + repaired.stderr
    assert "damaged block" in repaired.stdout, repaired.stdout
    store = RunStore()
    assert sorted(store.list_runs()["id"]) == sorted(ids)  # every run row survived
    assert 0 < store.metric_count() < 300_000  # the readable metric row groups survived
    assert cli(loupe_home, "doctor").returncode == 0
