"""Buffered metric logging: points collect in memory and reach DuckDB as one frame per flush."""

from __future__ import annotations

import time
from datetime import datetime

import pandas as pd

from core.store.runs import RunStore


class MetricLogger:
    """Collects metric points for one run and appends them in batches (never row by row).

    A flush happens when ``flush_every`` seconds have passed or ``max_buffer`` points are waiting,
    and always on ``flush()``/``close()``. ``store=None`` makes it a no-op (non-main processes).
    """

    def __init__(
        self, store: RunStore | None, run_id: str, flush_every: float = 2.0, max_buffer: int = 50_000
    ) -> None:
        self.store = store
        self.run_id = run_id
        self.flush_every = flush_every
        self.max_buffer = max_buffer
        self._cols: dict[str, list] = {k: [] for k in ("step", "epoch", "split", "name", "value", "time")}
        self._last_flush = time.monotonic()
        self.rows_written = 0

    def log(self, step: int, epoch: float, split: str, values: dict[str, float]) -> None:
        if self.store is None:
            return
        now = datetime.now()
        for name, value in values.items():
            self._cols["step"].append(int(step))
            self._cols["epoch"].append(float(epoch))
            self._cols["split"].append(split)
            self._cols["name"].append(name)
            self._cols["value"].append(float(value))
            self._cols["time"].append(now)
        if self.pending >= self.max_buffer or self.due():
            self.flush()

    @property
    def pending(self) -> int:
        return len(self._cols["step"])

    def due(self) -> bool:
        return time.monotonic() - self._last_flush >= self.flush_every

    def flush(self) -> int:
        self._last_flush = time.monotonic()
        if self.store is None or not self.pending:
            return 0
        frame = pd.DataFrame(self._cols)
        frame.insert(0, "run_id", self.run_id)
        written = self.store.append_metrics(frame)
        self.rows_written += written
        self._cols = {k: [] for k in self._cols}
        return written
