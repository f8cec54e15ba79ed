"""Run-store benchmark (issue 2): batched DuckDB metric logging against SQLite row by row.

Part 1 logs the same 1,000,000 metric points twice, side by side in one process:
  - Loupe: ``MetricLogger.log`` once per step (loss and lr, as the training loop does), buffered
    and appended to DuckDB as one frame per flush through ``RunStore.append_metrics``;
  - anchor: SQLite the way MLflow's SQL store logs a metric — one INSERT and one COMMIT per point
    into MLflow's ``metrics`` table (same primary key), default pragmas (rollback journal,
    synchronous=FULL, which is what MLflow's SQLAlchemy engine gets). Each commit waits for an
    fsync, so the anchor runs for a time budget on a measured subset and is extrapolated
    linearly to the full count (the output says so). A second, kinder row-by-row anchor with
    WAL and synchronous=NORMAL is timed the same way.
Part 2 builds a store holding 10,000,000 points (200 runs of 50,000) and times
``RunStore.curves`` (downsampled to 500 points per series, a fresh connection per call, as the
dashboard does) over several runs: median and p90. ``--investigate`` also times variants of the
curve query on a copy of the SQL (see ``curve_variants``).

    .venv/bin/python -m benchmarks.store_bench              # full size (about 1-2 minutes)
    .venv/bin/python -m benchmarks.store_bench --quick      # small smoke run
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

if __package__ in (None, ""):  # run as a file (make bench): make the repo importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.config import RunConfig  # noqa: E402
from core.store import MetricLogger, RunStore  # noqa: E402

TARGET_LOG_S = 2.0
TARGET_RATIO = 10.0
TARGET_QUERY_MS = 100.0

# MLflow's metrics table (mlflow/store/tracking/dbmodels/models.py, SqlMetric).
MLFLOW_METRICS_DDL = """
CREATE TABLE metrics (
    key VARCHAR(250) NOT NULL,
    value FLOAT NOT NULL,
    timestamp BIGINT NOT NULL,
    run_uuid VARCHAR(32) NOT NULL,
    step BIGINT DEFAULT 0 NOT NULL,
    is_nan BOOLEAN DEFAULT 0 NOT NULL,
    PRIMARY KEY (key, timestamp, step, run_uuid, value, is_nan)
)
"""


def machine() -> str:
    cores = os.cpu_count() or 0
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return (f"{platform.machine()} {cores} cores, {platform.system()} {platform.release()}, "
            f"python {platform.python_version()}, duckdb {duckdb.__version__}, "
            f"sqlite {sqlite3.sqlite_version}; load average {load} (other work slows every figure)")


def _timed(fn: Callable[[], object]) -> tuple[object, float]:
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


# --- part 1: logging ---------------------------------------------------------------------------
def make_points(points: int, seed: int = 0) -> tuple[list[float], list[float]]:
    """Loss and learning-rate values for points/2 steps, as plain floats (what the loop has)."""
    steps = points // 2
    rng = np.random.default_rng(seed)
    loss = (2.0 * np.exp(-np.arange(steps) / (steps / 5)) + rng.normal(0, 0.05, steps)).tolist()
    lr = np.linspace(3e-3, 0.0, steps).tolist()
    return loss, lr


def log_with(logger_cls: type, store: RunStore, loss: list[float], lr: list[float]
             ) -> tuple[str, float, float]:
    """(run id, wall seconds, CPU seconds of this process) for one ``log`` call per step."""
    run_id = store.create_run(RunConfig(task="tabular", name="bench-log"))
    logger = logger_cls(store, run_id)
    start, cpu = time.perf_counter(), time.process_time()
    for step, (a, b) in enumerate(zip(loss, lr, strict=True), start=1):
        logger.log(step, step / 1000.0, "train", {"loss": a, "lr": b})
    logger.flush()
    return run_id, time.perf_counter() - start, time.process_time() - cpu


def log_sqlite_rows(path: Path, loss: list[float], lr: list[float], budget_s: float,
                    tuned: bool = False) -> tuple[int, float, float]:
    """MLflow-style: one INSERT + COMMIT per metric point, until the budget or all points."""
    con = sqlite3.connect(str(path))
    if tuned:
        con.execute("PRAGMA journal_mode=WAL")
        con.execute("PRAGMA synchronous=NORMAL")
    con.execute(MLFLOW_METRICS_DDL)
    con.commit()
    run_uuid = "0123456789abcdef0123456789abcdef"
    sql = "INSERT INTO metrics (key, value, timestamp, run_uuid, step, is_nan) VALUES (?, ?, ?, ?, ?, ?)"
    done = 0
    start, cpu = time.perf_counter(), time.process_time()
    deadline = start + budget_s
    for step, (a, b) in enumerate(zip(loss, lr, strict=True), start=1):
        for key, value in (("loss", a), ("lr", b)):
            con.execute(sql, (key, value, int(time.time() * 1000), run_uuid, step, 0))
            con.commit()
            done += 1
        if (step & 15) == 0 and time.perf_counter() > deadline:
            break
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    con.close()
    return done, elapsed, cpu


# --- part 2: a 10M-point store and the curve query ---------------------------------------------
def run_frame(run_id: str, points: int, seed: int) -> pd.DataFrame:
    """One run's history: train loss/lr every step, four val metrics every 48 steps."""
    evals = max(1, points // 100)  # 2% val points
    train_steps = (points - 4 * evals) // 2
    rng = np.random.default_rng(seed)
    step = np.arange(1, train_steps + 1)
    every = max(1, train_steps // evals)
    val_steps = step[every - 1::every][:evals]
    parts = []
    for name, values in (("loss", np.exp(-step / 5000) + rng.normal(0, 0.05, len(step))),
                         ("lr", np.linspace(1e-3, 0, len(step)))):
        parts.append(pd.DataFrame({"step": step, "split": "train", "name": name, "value": values}))
    for name in ("loss", "rmse", "mae", "r2"):
        parts.append(pd.DataFrame({"step": val_steps, "split": "val", "name": name,
                                   "value": rng.random(len(val_steps))}))
    frame = pd.concat(parts, ignore_index=True)
    frame.insert(0, "run_id", run_id)
    frame["epoch"] = frame["step"] / 1000.0
    frame["time"] = pd.Timestamp("2026-01-01") + pd.to_timedelta(frame["step"], unit="s")
    return frame


def build_store(home: Path, runs: int, per_run: int, parallel: int = 1) -> tuple[RunStore, list[str], float]:
    """``runs`` runs, ``parallel`` at a time: their flushes (2,000 points) interleave in the file."""
    home.mkdir(parents=True, exist_ok=True)
    store = RunStore(home / "loupe.duckdb")
    ids: list[str] = []
    start = time.perf_counter()
    group = max(10, parallel)
    for first in range(0, runs, group):
        frames = []
        for i in range(first, min(first + group, runs)):
            ids.append(store.create_run(RunConfig(task="tabular", name=f"bench-{i}")))
            frames.append(run_frame(ids[-1], per_run, i))
        if parallel > 1:
            frames = _interleave(frames, parallel)
        store.append_metrics(pd.concat(frames, ignore_index=True))
    return store, ids, time.perf_counter() - start


def _interleave(frames: list[pd.DataFrame], parallel: int, chunk: int = 2000) -> list[pd.DataFrame]:
    """Runs trained side by side: chunk k of every run in a wave, then chunk k+1, ..."""
    out = []
    for wave in range(0, len(frames), parallel):
        parts = [[f.iloc[i:i + chunk] for i in range(0, len(f), chunk)] for f in frames[wave:wave + parallel]]
        for k in range(max(len(p) for p in parts)):
            out += [p[k] for p in parts if k < len(p)]
    return out


def _picks(ids: list[str], repeats: int) -> list[str]:
    return [ids[(i * 7919) % len(ids)] for i in range(repeats)]


def time_queries(fn: Callable[[str], pd.DataFrame], ids: list[str], repeats: int) -> list[float]:
    fn(ids[0])  # warm the OS page cache once; every timed call still opens its own connection
    out = []
    for run_id in _picks(ids, repeats):
        start = time.perf_counter()
        frame = fn(run_id)
        out.append((time.perf_counter() - start) * 1000)
        assert len(frame) > 0
    return out


def time_interleaved(variants: dict[str, Callable[[str], pd.DataFrame]], ids: list[str],
                     repeats: int) -> dict[str, list[float]]:
    """Each run queried by every variant in turn (rotating order), so drift hits all alike."""
    out: dict[str, list[float]] = {label: [] for label in variants}
    labels = list(variants)
    for i, run_id in enumerate(_picks(ids, repeats)):
        for label in labels[i % len(labels):] + labels[:i % len(labels)]:
            start = time.perf_counter()
            variants[label](run_id)
            out[label].append((time.perf_counter() - start) * 1000)
    return out


CURVES_SQL = """
    WITH s AS (
        SELECT split, name, step, epoch, value,
               row_number() OVER (PARTITION BY split, name ORDER BY step) - 1 AS rn,
               count(*) OVER (PARTITION BY split, name) AS n
        FROM metrics WHERE run_id = ?
    )
    SELECT split, name, max(step) AS step, max(epoch) AS epoch, avg(value) AS value
    FROM s
    GROUP BY split, name, CASE WHEN n <= {m} THEN rn ELSE floor(rn * {m} / n) END
    ORDER BY split, name, step
"""


# One window spec for both the rank and the count: one sort per series instead of sort + hash.
ONE_SORT_SQL = CURVES_SQL.replace(
    "count(*) OVER (PARTITION BY split, name) AS n",
    "count(*) OVER (PARTITION BY split, name ORDER BY step ROWS BETWEEN UNBOUNDED PRECEDING"
    " AND UNBOUNDED FOLLOWING) AS n")

# No window at all: bucket by step range (equal to rank buckets when steps are evenly spaced).
STEP_BUCKET_SQL = """
    WITH s AS (SELECT split, name, step, epoch, value FROM metrics WHERE run_id = ?),
    r AS (SELECT split, name, min(step) AS lo, max(step) AS hi, count(*) AS n FROM s GROUP BY ALL)
    SELECT s.split, s.name, max(s.step) AS step, max(s.epoch) AS epoch, avg(s.value) AS value
    FROM s JOIN r USING (split, name)
    GROUP BY s.split, s.name,
             CASE WHEN n <= {m} THEN s.step ELSE floor((s.step - lo) * {m} / (hi - lo + 1)) END
    ORDER BY 1, 2, 3
"""


def proposed_curves(store: RunStore, run_id: str, names: Sequence[str] | None = None,
                    max_points: int = 500) -> pd.DataFrame:
    """The proposed ``RunStore.curves``: step-range buckets, no window functions."""
    where, params = "run_id = ?", [run_id]
    if names:
        where += f" AND name IN ({', '.join('?' for _ in names)})"
        params += list(names)
    sql = STEP_BUCKET_SQL.replace("run_id = ?", where).format(m=int(max_points))
    with store.connect() as con:
        return con.execute(sql, params).df()


def curve_variants(store: RunStore) -> dict[str, Callable[[str], pd.DataFrame]]:
    """Copies of ``RunStore.curves`` with one change each, to find where the time goes.

    Each opens and closes its own connection, as the store does; the kept-connection figure is
    taken separately, last (a connection held open keeps the database cached in the process).
    """
    path = str(store.path)

    def fresh(sql: str, setup: tuple[str, ...] = (), read_only: bool = False,
              db: str = path) -> Callable[[str], pd.DataFrame]:
        def query(run_id: str) -> pd.DataFrame:
            con = duckdb.connect(db, read_only=read_only)
            try:
                for stmt in setup:
                    con.execute(stmt)
                return con.execute(sql, [run_id]).df()
            finally:
                con.close()
        return query

    base = CURVES_SQL.format(m=500)
    indexed = str(store.path.with_name("indexed.duckdb"))
    shutil.copy(path, indexed)
    con = duckdb.connect(indexed)
    con.execute("CREATE INDEX metrics_run ON metrics (run_id)")
    con.close()
    return {
        "RunStore.curves as is": store.curves,
        "connect + close only": fresh("SELECT 1 WHERE ? IS NOT NULL"),
        "filter only (count the run's rows)": fresh("SELECT count(*) FROM metrics WHERE run_id = ?"),
        "same SQL, SET threads=1": fresh(base, ("SET threads=1",)),
        "same SQL, read_only connection": fresh(base, read_only=True),
        "same SQL, ART index on run_id": fresh(base, db=indexed),
        "one-sort window (shared window spec)": fresh(ONE_SORT_SQL.format(m=500)),
        "proposed: step-range buckets, no window": lambda run_id: proposed_curves(store, run_id),
    }


def kept_connection(store: RunStore) -> Callable[[str], pd.DataFrame]:
    con = duckdb.connect(str(store.path))
    return lambda run_id: con.execute(CURVES_SQL.format(m=500), [run_id]).df()


# --- main --------------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--points", type=int, default=1_000_000, help="metric points to log (part 1)")
    ap.add_argument("--sqlite-budget", type=float, default=30.0,
                    help="seconds each SQLite row-by-row anchor may run before extrapolating")
    ap.add_argument("--runs", type=int, default=200, help="runs in the large store (part 2)")
    ap.add_argument("--per-run", type=int, default=50_000, help="points per run (part 2)")
    ap.add_argument("--parallel", type=int, default=1,
                    help="runs trained at once while the store filled (their flushes interleave)")
    ap.add_argument("--queries", type=int, default=15, help="curve queries to time (median)")
    ap.add_argument("--part", choices=("all", "log", "query"), default="all")
    ap.add_argument("--investigate", action="store_true",
                    help="also time the proposed logger and variants of the curve query")
    ap.add_argument("--dir", help="work folder (default: a temporary folder on the same disk)")
    ap.add_argument("--quick", action="store_true", help="tiny sizes for a smoke run")
    ap.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    args = ap.parse_args(argv)
    if args.quick:
        args.points, args.sqlite_budget, args.runs, args.per_run, args.queries = 20_000, 1.0, 4, 5_000, 3
    work = Path(tempfile.mkdtemp(prefix="loupe-store-bench-", dir=args.dir))
    try:
        print(f"machine: {machine()}")
        ok = True
        if args.part in ("all", "log"):
            ok = part_log(args, work) and ok
        if args.part in ("all", "query"):
            ok = part_query(args, work) and ok
        return 1 if args.strict and not ok else 0  # a benchmark reports; it is not a test
    finally:
        shutil.rmtree(work, ignore_errors=True)


def part_log(args: argparse.Namespace, work: Path) -> bool:
    loss, lr = make_points(args.points)
    n = 2 * len(loss)
    print(f"\n== part 1: log {n:,} metric points ({n // 2:,} steps x loss, lr)")
    (work / "log").mkdir()
    store = RunStore(work / "log" / "loupe.duckdb")
    run_id, t_duck, c_duck = log_with(MetricLogger, store, loss, lr)
    assert store.metric_count(run_id) == n, "DuckDB lost points"
    rows = [("Loupe: MetricLogger -> RunStore (DuckDB, batched)", t_duck, c_duck, "measured, all points")]
    anchors = {}
    for label, tuned in (("SQLite row by row, MLflow-style (anchor)", False),
                         ("SQLite row by row, WAL + synchronous=NORMAL", True)):
        done, elapsed, cpu = log_sqlite_rows(work / f"sqlite-{int(tuned)}.db", loss, lr, args.sqlite_budget,
                                             tuned)
        anchors[tuned] = elapsed / done * n
        how = "measured, all points" if done >= n else f"extrapolated from {done:,} points in {elapsed:.1f} s"
        rows.append((label, anchors[tuned], cpu / done * n, how))
    print(f"{'path':<52}{'wall s':>10}{'CPU s':>9}{'points/s':>12}{'anchor/this':>13}  how")
    for label, seconds, cpu_s, how in rows:
        print(f"{label:<52}{seconds:>10.2f}{cpu_s:>9.2f}{n / seconds:>12,.0f}"
              f"{anchors[False] / seconds:>12,.0f}x  {how}")
    ratio = anchors[False] / t_duck
    print(f"ratio anchor / Loupe: {ratio:,.0f}x (MLflow-style); {anchors[True] / t_duck:,.1f}x against "
          "the WAL + NORMAL row path")
    ok = t_duck < TARGET_LOG_S and ratio >= TARGET_RATIO
    print(f"target: {n:,} points < {TARGET_LOG_S:.0f} s and >= {TARGET_RATIO:.0f}x the anchor: "
          f"{'met' if ok else 'MISSED'} ({t_duck:.2f} s)")
    return ok


def part_query(args: argparse.Namespace, work: Path) -> bool:
    total = args.runs * args.per_run
    print(f"\n== part 2: curve query on a store of {total:,} points ({args.runs} runs x {args.per_run:,}, "
          f"{args.parallel} trained at a time)")
    big, ids, t_build = build_store(work / "big", args.runs, args.per_run, args.parallel)
    size = big.path.stat().st_size / 1e6
    print(f"built in {t_build:.1f} s ({big.metric_count():,} points, {size:,.0f} MB)")
    times = time_queries(big.curves, ids, args.queries)
    median, p90 = statistics.median(times), float(np.percentile(times, 90))
    print(f"RunStore.curves (500 points/series, fresh connection): median {median:.1f} ms, "
          f"p90 {p90:.1f} ms, min {min(times):.1f} ms over {len(times)} runs")
    ok = median < TARGET_QUERY_MS
    print(f"target: curve query < {TARGET_QUERY_MS:.0f} ms: {'met' if ok else 'MISSED'}")
    if args.investigate:
        print("\n-- curve query variants, interleaved over the same runs (ms)")
        print(f"{'variant':<44}{'median':>9}{'p90':>9}")
        for label, values in time_interleaved(curve_variants(big), ids, args.queries).items():
            print(f"{label:<44}{statistics.median(values):>9.1f}{np.percentile(values, 90):>9.1f}")
        values = time_queries(kept_connection(big), ids, args.queries)
        print(f"{'same SQL, one connection kept open':<44}{statistics.median(values):>9.1f}"
              f"{np.percentile(values, 90):>9.1f}")
    return ok


if __name__ == "__main__":
    sys.exit(main())
