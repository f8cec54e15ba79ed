"""The store benchmark runs end to end at tiny sizes (its numbers are reported, never asserted)."""

from __future__ import annotations

import pytest

from benchmarks import store_bench


def test_store_bench_quick_run(tmp_path, capsys: pytest.CaptureFixture[str]) -> None:
    store_bench.main(["--quick", "--sqlite-budget", "0.3", "--investigate", "--dir", str(tmp_path)])
    out = capsys.readouterr().out
    for line in ("part 1: log 20,000 metric points", "SQLite row by row, MLflow-style (anchor)",
                 "Loupe: MetricLogger", "RunStore.curves", "target: curve query"):
        assert line in out
    assert list(tmp_path.iterdir()) == []  # the work folder is removed


def test_sqlite_anchor_extrapolates_when_over_budget(tmp_path) -> None:
    loss, lr = store_bench.make_points(2_000)
    done, elapsed, cpu = store_bench.log_sqlite_rows(tmp_path / "a.db", loss, lr, budget_s=0.0)
    assert 0 < done < 2_000 and elapsed > 0 and cpu >= 0
