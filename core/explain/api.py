"""``explain(run_id, input, method=...)``: the one entry point the CLI and the dashboard call.

It resolves the run, loads its predictor (cached per process by ``core.predict``), fills in
every parameter's default (so two calls that mean the same thing share one cache entry), and
serves the explanation from the run store's ``explanations`` table when it is there.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from core.errors import LoupeError
from core.explain.base import Explainer, Job
from core.explain.common import ProgressFn
from core.explain.result import Explanation

_ALIASES = {"global": "shap_global", "importance": "shap_global"}


def explainer_for(kind: str) -> Explainer:
    """The explainer a task kind names (``Task.explainer``); an error when it has none."""
    from core.tasks import get_task

    explainer = get_task(kind).explainer()
    if explainer is None:
        raise LoupeError(f"{kind} runs cannot be explained.", "explain a run of another kind.")
    return explainer


def methods_for(kind: str) -> tuple[str, ...]:
    """The explanation methods a task kind offers, its default first (none: ``()``)."""
    from core.tasks import get_task

    explainer = get_task(kind).explainer()
    return tuple(explainer.methods) if explainer is not None else ()


def explain(run_id: str, input: Any = None, method: str = "shap", target_class: Any = None,
            store: Any = None, progress: ProgressFn | None = None, device: str = "auto",
            use_cache: bool = True, **params: Any) -> Explanation:
    """Explain one input of a trained run.

    - text run: ``input`` is a string; ``method`` "shap" (token attributions) or "attention".
      Params: ``max_evals`` (500), ``output`` ("probability" | "logit"), ``batch_size``.
    - image run: ``input`` is a path, bytes, PIL image or RGB array; params ``max_evals``,
      ``mask`` ("auto" | "blur(k,k)" | "mean"), ``output``, ``batch_size``.
    - tabular run: ``input`` is a dict, Series or one-row DataFrame ("shap"), or nothing with
      ``method="shap_global"``; params ``background``, ``algorithm`` ("auto" | "exact" |
      "permutation"), ``max_evals``, ``seed``; global also ``rows`` and ``split``.
    - any other kind: what its ``Explainer`` (``Task.explainer``) documents.

    ``target_class`` (name or index, or a list) adds classes to the predicted one.
    ``progress(fraction, message)`` is called while it works. Returns an ``Explanation`` whose
    ``from_cache`` says whether the model ran (on a cache hit the model is not even loaded).
    """
    from core.store import RunStore

    store = store if store is not None else RunStore()
    run = store.get_run(run_id)
    run_id, kind = run["id"], run["task"]
    method = _check_method(kind, method)
    explainer = explainer_for(kind)
    if input is None and method not in explainer.global_methods:
        raise LoupeError(f"Nothing to explain for this {kind} run.", explainer.input_hint)
    job = Job(store, run_id, device, progress, use_cache)
    return explainer.explain(job, input, method, target_class, params)


def explain_folder(folder: str | Path, kind: str, input: Any = None, method: str = "shap",
                   target_class: Any = None, cache_dir: str | Path | None = None,
                   label: str = "", progress: ProgressFn | None = None, device: str = "cpu",
                   use_cache: bool = True, **params: Any) -> Explanation:
    """Explain one input with a model folder that has no run history behind it (a deploy
    bundle, an exported model folder): the same explainers, methods and parameters as
    ``explain``, the predictor loaded from ``folder``. Explanations are cached in ``cache_dir``
    (default: ``bundle_cache_dir(folder)``); ``label`` names the model in them (e.g. its run id).
    What needs the run's data says so: global importance, and tabular SHAP of a network uses
    one reference row (training medians and most frequent categories) as its background."""
    from core.explain.base import FolderJob

    method = _check_method(kind, method)
    explainer = explainer_for(kind)
    if input is None and method not in explainer.global_methods:
        raise LoupeError(f"Nothing to explain for this {kind} model.", explainer.input_hint)
    folder = Path(folder).expanduser()
    job = FolderJob(folder, kind, Path(cache_dir) if cache_dir else bundle_cache_dir(folder), label,
                    device, progress, use_cache)
    return explainer.explain(job, input, method, target_class, params)


def bundle_cache_dir(folder: Path) -> Path:
    """Where explanations of a model folder are cached: ``bundle-explanations/<folder key>``
    under Loupe's cache folder (``LOUPE_CACHE_DIR``, else the user cache), or a new temporary
    folder when that cannot be written. Never the folder itself, never the Loupe history."""
    import tempfile

    from core.explain.base import folder_fingerprint
    from core.privacy.name_lexicon import cache_dir

    target = cache_dir() / "bundle-explanations" / folder_fingerprint(folder)
    try:
        target.mkdir(parents=True, exist_ok=True)
        probe = target / ".writable"
        probe.write_bytes(b"")
        probe.unlink()
        return target
    except OSError:
        return Path(tempfile.mkdtemp(prefix="loupe-explain-"))


def _check_method(kind: str, method: str) -> str:
    method = _ALIASES.get(method, method)
    methods = methods_for(kind)
    if method not in methods:
        raise LoupeError(f"'{method}' explanations are not available for {kind} runs.",
                         f"use one of {', '.join(methods)}." if methods
                         else "explain a run of another kind.")
    return method


def explain_global(run_id: str, store: Any = None, progress: ProgressFn | None = None,
                   **params: Any) -> Explanation:
    """Global importance and dependence data of a tabular run (mean |SHAP| over a sample)."""
    return explain(run_id, None, method="shap_global", store=store, progress=progress, **params)


def explanation_history(run_id: str | None = None, store: Any = None) -> pd.DataFrame:
    """Cached explanations (masked inputs, method, parameters, seconds), newest first."""
    from core.explain.cache import ExplanationCache
    from core.store import RunStore

    return ExplanationCache(store if store is not None else RunStore()).list(run_id)
