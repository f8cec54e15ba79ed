"""The run history: one DuckDB file, one access path (RunStore)."""

from core.store.logger import MetricLogger
from core.store.runs import STATUSES, RunStore

__all__ = ["STATUSES", "MetricLogger", "RunStore"]
