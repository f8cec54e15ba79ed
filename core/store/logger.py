"""Buffered metric logging: points collect in memory and reach DuckDB as one batch per flush."""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from core.store.runs import RunStore


class MetricLogger:
    """Collects metric points for one run and appends them in batches (never row by row).

    ``log`` keeps one tuple per call, grouped by (split, metric names); ``flush`` turns each group
    into columns with one ``np.array`` call and hands DuckDB an Arrow table with dictionary-encoded
    strings. A flush has a fixed cost (open the file, checkpoint on close), so points are written
    every ``flush_every`` seconds or when ``max_buffer`` points wait, and on ``flush()``.
    ``store=None`` makes it a no-op (non-main processes).
    """

    def __init__(self, store: RunStore | None, run_id: str, flush_every: float = 2.0,
                 max_buffer: int = 500_000) -> None:
        self.store, self.run_id = store, run_id
        self.flush_every, self.max_buffer = flush_every, max_buffer
        self._groups: dict[tuple[str, tuple[str, ...]], list[tuple[float, ...]]] = {}
        self.pending = 0
        self.rows_written = 0
        self._last_flush = time.time()

    def log(self, step: int, epoch: float, split: str, values: dict[str, float]) -> None:
        if self.store is None:
            return
        now = time.time()
        key = (split, tuple(values))
        rows = self._groups.get(key)
        if rows is None:
            rows = self._groups[key] = []
        rows.append((step, epoch, now, *values.values()))
        self.pending += len(values)
        if self.pending >= self.max_buffer or now - self._last_flush >= self.flush_every:
            self.flush()

    def due(self) -> bool:
        return time.time() - self._last_flush >= self.flush_every

    def discard(self) -> None:
        """Drop buffered points unwritten (the run was deleted)."""
        self._groups, self.pending = {}, 0

    def flush(self) -> int:
        self._last_flush = time.time()
        if self.store is None or not self.pending:
            return 0
        written = self.pending
        with self.store.connect() as con:
            self._write(con)
        return written

    def flush_if_run(self) -> bool:
        """``flush`` and the check that the run still exists, in one connection (opening the
        file is most of a flush's cost). False when the run was deleted: its points are dropped."""
        self._last_flush = time.time()
        if self.store is None:
            return True
        with self.store.connect() as con:
            if con.execute("SELECT 1 FROM runs WHERE id=?", [self.run_id]).fetchone() is None:
                self.discard()
                return False
            self._write(con)
        return True

    def _write(self, con: Any) -> None:
        """Append the buffered points in one transaction (nothing for a deleted run)."""
        if not self.pending:
            return
        groups, written = self._groups, self.pending
        self._groups, self.pending = {}, 0
        tables = [self._columns(split, names, rows) for (split, names), rows in groups.items()]
        con.execute("BEGIN TRANSACTION")
        for table in tables:
            con.register("metric_batch", table)
            con.execute("INSERT INTO metrics SELECT ?, step, epoch, split, name, value, time"
                        " FROM metric_batch WHERE EXISTS (SELECT 1 FROM runs WHERE id=?)",
                        [self.run_id, self.run_id])
            con.unregister("metric_batch")
        con.execute("COMMIT")
        self.rows_written += written

    @staticmethod
    def _columns(split: str, names: tuple[str, ...], rows: list[tuple[float, ...]]) -> Any:
        import pandas as pd
        import pyarrow as pa

        grid = np.array(rows, dtype=float)  # one row per log call: step, epoch, time, values...
        calls, k = grid.shape[0], len(names)
        now, stamp = time.time(), np.datetime64(pd.Timestamp.now(), "us")  # local wall clock
        moments = stamp + ((grid[:, 2] - now) * 1e6).astype("timedelta64[us]")
        return pa.table({
            "step": pa.array(np.repeat(grid[:, 0].astype(np.int32), k)),
            "epoch": pa.array(np.repeat(grid[:, 1], k)),
            "split": pa.DictionaryArray.from_arrays(pa.array(np.zeros(calls * k, np.int32)),
                                                    pa.array([split])),
            "name": pa.DictionaryArray.from_arrays(pa.array(np.tile(np.arange(k, dtype=np.int32), calls)),
                                                   pa.array(list(names))),
            "value": pa.array(grid[:, 3:].ravel()),
            "time": pa.array(np.repeat(moments, k)),
        })
