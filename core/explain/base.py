"""What a task kind provides to explain its predictions: one ``Explainer`` per kind.

A kind names its explainer with ``Task.explainer_ref`` ("module:Class", imported on first use, so
importing the task registry never pulls in shap or plotly). ``core.explain.explain`` resolves the
run, checks the method against ``Explainer.methods`` and hands the rest to the kind's explainer;
the CLI (``loupe explain``) reads ``--input`` and picks the flags through it; ``Explanation``
draws its figures and sums its attributions through it. The built-in kinds' explainers live in
``core/explain/{text,image,tabular}.py``; a new kind writes one such module (see
``tests/toy_kind/explainer.py`` for a small complete one).

Also here: ``Job`` (what every explainer needs: the store, the run, its predictor loaded only on
a cache miss, and the cache) and small helpers explainers share.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from core.errors import LoupeError
from core.explain.common import CPU_BATCH, GPU_BATCH, ProgressFn

if TYPE_CHECKING:
    from core.explain.result import Explanation


class Job:
    """What every kind needs: the store, the run, and its predictor — loaded only on a miss."""

    #: whether the run's data (its training rows, its config) can be read: a run of the history
    #: can; a model folder on its own (``FolderJob``) cannot
    has_run_data = True

    def __init__(self, store: Any, run_id: str, device: str, progress: ProgressFn | None,
                 use_cache: bool) -> None:
        self.store, self.run_id, self.device = store, run_id, device
        self.progress, self.use_cache = progress, use_cache

    def predictor(self) -> Any:
        from core.predict import load_predictor

        if self.progress is not None:
            self.progress(0.0, "loading the model")
        return load_predictor(self.run_id, self.store, self.device)

    def artifact_dir(self) -> Path:
        """The run's model folder (read what it holds without loading the model)."""
        return self.store.artifact_path(self.run_id, "model")

    def device_type(self) -> str:
        from core.runtime import resolve_device

        return resolve_device(self.device).type

    def batch_size(self, cpu: int = CPU_BATCH, gpu: int = GPU_BATCH) -> int:
        return gpu if self.device_type() == "cuda" else cpu

    def cached(self, method: str, raw: bytes | str, opts: dict[str, Any], masked: str,
               compute: Callable[[], Explanation]) -> Explanation:
        """``compute()``'s result, served from the run store when asked before (see
        ``core.explain.cache.cached``: ``opts`` must hold every setting that changes it)."""
        from core.explain.cache import cached

        return cached(self.store, self.run_id, method, raw, opts, masked, compute, self.use_cache)


_FOLDER_PREDICTORS: dict[tuple[str, str, str, str], Any] = {}


class FolderJob(Job):
    """A ``Job`` over a model folder with no run history behind it (a deploy bundle).

    The predictor is the kind's ``load_predictor(folder)`` (loaded once, on the first miss);
    explanations are cached in a small private store in ``cache_dir`` (its own DuckDB file and
    HMAC key, never the user's Loupe history), keyed like a run's and by a fingerprint of the
    folder's model files, so a changed model never serves an older explanation."""

    has_run_data = False

    def __init__(self, folder: Path, kind: str, cache_dir: Path, label: str = "",
                 device: str = "cpu", progress: ProgressFn | None = None, use_cache: bool = True) -> None:
        from core.store import RunStore

        store = RunStore(Path(cache_dir) / "explanations.duckdb")
        super().__init__(store, label or "model-folder", device, progress, use_cache)
        self.folder, self.kind = Path(folder), kind
        self.model_key = folder_fingerprint(self.folder)
        self._predictor: Any = None

    def predictor(self) -> Any:
        from core.tasks import get_task

        if self._predictor is None:
            key = (str(self.folder.resolve()), self.kind, self.device, self.model_key)
            if key not in _FOLDER_PREDICTORS:
                if self.progress is not None:
                    self.progress(0.0, "loading the model")
                _FOLDER_PREDICTORS.clear()  # one folder's model kept per process (a server's)
                _FOLDER_PREDICTORS[key] = get_task(self.kind).load_predictor(self.folder, self.device)
            self._predictor = _FOLDER_PREDICTORS[key]
        return self._predictor

    def artifact_dir(self) -> Path:
        return self.folder

    def cached(self, method: str, raw: bytes | str, opts: dict[str, Any], masked: str,
               compute: Callable[[], Explanation]) -> Explanation:
        from core.explain.cache import cached

        return cached(self.store, self.run_id, method, raw, {**opts, "_model_files": self.model_key},
                      masked, compute, self.use_cache)


def folder_fingerprint(folder: Path) -> str:
    """sha256 (16 hex) over the names, sizes and modification times of a model folder's files."""
    import hashlib

    digest = hashlib.sha256()
    for path in sorted(p for p in Path(folder).rglob("*") if p.is_file()):
        stat = path.stat()
        digest.update(f"{path.relative_to(folder)}|{stat.st_size}|{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:16]


class Explainer(ABC):
    """One task kind's explanations. Subclass it in ``core/explain/<kind>.py`` (or your own
    module) and name it in the task's ``explainer_ref``."""

    #: Methods offered, the default first (e.g. ("shap", "attention")).
    methods: tuple[str, ...] = ("shap",)
    #: Methods that explain the model as a whole and take no input (e.g. ("shap_global",)).
    global_methods: tuple[str, ...] = ()
    #: How to give an input, for "Nothing to explain" messages (API and CLI).
    input_hint: str = "pass the input to explain (--input)."

    @abstractmethod
    def explain(self, job: Job, input: Any, method: str, target_class: Any,
                params: dict[str, Any]) -> Explanation:
        """Explain ``input`` (never None unless ``method`` is global) with a checked ``method``.

        Check ``params`` with ``check_params`` (unknown names are errors, defaults filled in so
        equal requests share one cache entry) and compute through ``job.cached``."""

    # --- command line -------------------------------------------------------------------
    def cli_params(self, method: str) -> tuple[str, ...]:
        """The ``loupe explain`` options (argparse dest names) passed on to ``explain`` as
        params for this method; the others are ignored for this kind."""
        return ()

    def cli_input(self, value: str, is_file: bool, read_file: Callable[[], Any]) -> Any:
        """The input from ``--input VALUE``: ``read_file()`` gives the ``--row``-th input of the
        file VALUE names (``is_file``), read by the run's predictor. By default a file is read
        and anything else is passed on as given."""
        return read_file() if is_file else value

    def pick_input(self, inputs: Any, row: int) -> Any:
        """One input out of what the predictor's ``load_inputs`` read (``--row``)."""
        return inputs[row]

    # --- what-if (``core.whatif``, ``loupe whatif``) ------------------------------------------
    def edited_input(self, original: Any, edited: Any, changes: list[str], columns: Any) -> Any:
        """The edited input to compare with ``original``: ``edited`` as given (``--edited``), or
        for a kind whose inputs are rows, ``original`` with ``changes`` ("COL=VALUE") applied
        (``columns()`` gives the model's input columns)."""
        if changes:
            raise LoupeError("--set changes a column of a table row, and this run's inputs are not "
                             "rows.", "give the edited input with --edited.")
        if edited is None:
            raise LoupeError("Nothing was edited.", "give the edited input with --edited.")
        return edited

    def counterfactual(self, run_id: str, input: Any, store: Any, options: dict[str, Any]) -> Any:
        """The smallest edit of ``input`` that changes the run's decision, as a result with
        ``found``, ``summary()`` and ``lines()`` (masked, for people), ``to_dict()`` and ``frame()``."""
        raise LoupeError("This kind of run has no counterfactual search.",
                         "use a text, image or table run.")

    # --- results --------------------------------------------------------------------------
    def figures(self, expl: Explanation, **options: Any) -> dict[str, Any]:
        """Plotly figures of an explanation, by name (builders in ``core.explain.figures``)."""
        return {}

    def total(self, expl: Explanation) -> np.ndarray:
        """Sum of attributions per explained output (additivity: f(x) - base value). By
        default ``values``' last axis runs over the explained outputs."""
        if expl.values is None:
            return np.zeros(0)
        return expl.values.sum(axis=tuple(range(expl.values.ndim - 1)))


# --- helpers explainers share ----------------------------------------------------------------
def check_params(params: dict[str, Any], allowed: dict[str, Any], what: str) -> dict[str, Any]:
    """``allowed`` (name -> default) updated with the given params; unknown names are errors."""
    unknown = sorted(set(params) - set(allowed))
    if unknown:
        raise LoupeError(f"Unknown option(s) for {what}: {', '.join(unknown)}.",
                         f"use {', '.join(sorted(allowed))}.")
    return {**allowed, **{k: v for k, v in params.items() if v is not None}}


def chosen_classes(target_class: Any) -> list[Any] | None:
    """Chosen classes as given (names or indexes); the explainer resolves and checks them."""
    if target_class is None:
        return None
    items = [target_class] if isinstance(target_class, (int, str, np.integer)) else list(target_class)
    return [int(i) if isinstance(i, np.integer) else i for i in items]


def json_row(value: str) -> dict[str, Any]:
    """``--input '{"column": value, ...}'``: one row of column values."""
    try:
        row = json.loads(value)
    except json.JSONDecodeError as exc:
        raise LoupeError(f"--input is not valid JSON ({exc.msg} at column {exc.colno}).",
                         """pass e.g. --input '{"sqft": 1200, "garage": "yes"}'.""") from exc
    if not isinstance(row, dict):
        raise LoupeError("--input must be a JSON object of column values.", "wrap it in { }.")
    return row


def jsonable(value: Any) -> Any:
    """A table cell as plain JSON (NaN as null, numpy scalars as Python ones)."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    return value.item() if isinstance(value, np.generic) else value

