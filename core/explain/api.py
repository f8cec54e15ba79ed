"""``explain(run_id, input, method=...)``: the one entry point the CLI and the dashboard call.

It resolves the run, loads its predictor (cached per process by ``core.predict``), fills in
every parameter's default (so two calls that mean the same thing share one cache entry), and
serves the explanation from the run store's ``explanations`` table when it is there.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from core.datasets.image_transforms import eval_crop
from core.errors import LoupeError
from core.explain import shap_image, shap_tabular, shap_text
from core.explain.cache import cached
from core.explain.common import CPU_BATCH, GPU_BATCH, ProgressFn
from core.explain.result import Explanation

METHODS = {"text": ("shap", "attention"), "image": ("shap",), "tabular": ("shap", "shap_global")}
_ALIASES = {"global": "shap_global", "importance": "shap_global"}


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

    ``target_class`` (name or index, or a list) adds classes to the predicted one.
    ``progress(fraction, message)`` is called while it works. Returns an ``Explanation`` whose
    ``from_cache`` says whether the model ran (on a cache hit the model is not even loaded).
    """
    from core.store import RunStore

    store = store if store is not None else RunStore()
    run = store.get_run(run_id)
    run_id, kind = run["id"], run["task"]
    method = _ALIASES.get(method, method)
    if method not in METHODS.get(kind, ()):
        raise LoupeError(f"'{method}' explanations are not available for {kind} runs.",
                         f"use one of {', '.join(METHODS.get(kind, ()))}.")
    job = _Job(store, run_id, device, progress, use_cache)
    if kind == "tabular":
        return _tabular(job, input, method, params)
    if input is None:
        raise LoupeError(f"Nothing to explain for this {kind} run.",
                         "pass a text (--input 'some text')." if kind == "text"
                         else "pass an image file (--input photo.jpg).")
    if kind == "text":
        return _text(job, input, method, target_class, params)
    return _image(job, input, target_class, params)


class _Job:
    """What every kind needs: the store, the run, and its predictor — loaded only on a miss."""

    def __init__(self, store: Any, run_id: str, device: str, progress: ProgressFn | None,
                 use_cache: bool) -> None:
        self.store, self.run_id, self.device = store, run_id, device
        self.progress, self.use_cache = progress, use_cache

    def predictor(self) -> Any:
        from core.predict import load_predictor

        if self.progress is not None:
            self.progress(0.0, "loading the model")
        return load_predictor(self.run_id, self.store, self.device)

    def device_type(self) -> str:
        from core.runtime import resolve_device

        return resolve_device(self.device).type

    def batch_size(self, cpu: int = CPU_BATCH, gpu: int = GPU_BATCH) -> int:
        return gpu if self.device_type() == "cuda" else cpu

    def cached(self, method: str, raw: bytes | str, opts: dict[str, Any], masked: str,
               compute: Any) -> Explanation:
        return cached(self.store, self.run_id, method, raw, opts, masked, compute, self.use_cache)


def _classes(target_class: Any) -> list[Any] | None:
    """Chosen classes as given (names or indexes); the explainer resolves and checks them."""
    if target_class is None:
        return None
    items = [target_class] if isinstance(target_class, (int, str, np.integer)) else list(target_class)
    return [int(i) if isinstance(i, np.integer) else i for i in items]


def _check(params: dict[str, Any], allowed: dict[str, Any], what: str) -> dict[str, Any]:
    unknown = sorted(set(params) - set(allowed))
    if unknown:
        raise LoupeError(f"Unknown option(s) for {what}: {', '.join(unknown)}.",
                         f"use {', '.join(sorted(allowed))}.")
    return {**allowed, **{k: v for k, v in params.items() if v is not None}}


def _text(job: _Job, text: Any, method: str, target_class: Any, params: dict[str, Any]
          ) -> Explanation:
    from core.privacy import mask_text

    if not isinstance(text, str) or not text.strip():
        raise LoupeError("A text run explains a text; the input is empty or not a string.",
                         "pass the text to explain, e.g. --input 'great product, works well'.")
    masked = mask_text(text)
    if method == "attention":
        from core.explain.attention import eager_model, explain_attention

        opts = _check(params, {"max_length": None}, "attention")

        def compute_attention() -> Explanation:
            predictor = job.predictor()
            model = eager_model(predictor, job.store.artifact_path(job.run_id, "model"))
            return explain_attention(predictor, text, job.run_id, model=model,
                                     max_length=opts["max_length"])

        return job.cached("attention", text, opts, masked, compute_attention)
    opts = _check(params, {"max_evals": shap_text.DEFAULT_MAX_EVALS, "output": "probability",
                           "batch_size": job.batch_size(), "lookahead": True}, "text SHAP")
    opts["target_class"] = _classes(target_class)

    def compute() -> Explanation:
        return shap_text.explain_text(job.predictor(), text, job.run_id, opts["target_class"],
                                      opts["max_evals"], opts["output"], opts["batch_size"],
                                      job.progress, lookahead=opts["lookahead"])

    return job.cached("shap", text, opts, masked, compute)


def _image(job: _Job, image: Any, target_class: Any, params: dict[str, Any]) -> Explanation:
    opts = _check(params, {"max_evals": shap_image.DEFAULT_MAX_EVALS, "mask": "auto",
                           "output": "probability", "batch_size": None}, "image SHAP")
    opts["target_class"] = _classes(target_class)
    opts["device"] = job.device_type()  # the default batch size (and so the Owen order) follows it
    raw, name = _image_bytes(image)
    predictor = None

    def compute() -> Explanation:
        nonlocal predictor
        predictor = job.predictor()
        return shap_image.explain_image(predictor, image, job.run_id, opts["target_class"],
                                        opts["max_evals"], opts["mask"], opts["output"],
                                        opts["batch_size"], job.progress)

    result = job.cached("shap", raw, opts, name, compute)
    if "image" not in result.arrays:  # served from the cache: pixels are never stored
        predictor = predictor or job.predictor()
        array, _ = shap_image.load_image(image, predictor)
        result.arrays["image"] = eval_crop(array, predictor.prep)
    return result


def _image_bytes(image: Any) -> tuple[bytes, str]:
    """The bytes the cache fingerprints and the name it stores (never the pixels)."""
    if isinstance(image, (str, Path)):
        path = Path(image)
        if not path.is_file():
            raise LoupeError(f"The image {path} does not exist.", "check the path.")
        return path.read_bytes(), path.name
    if isinstance(image, bytes):
        return image, "uploaded image"
    if isinstance(image, np.ndarray):
        return np.ascontiguousarray(image).tobytes() + repr(image.shape).encode(), "image array"
    if hasattr(image, "tobytes") and hasattr(image, "size"):  # PIL image
        name = Path(getattr(image, "filename", "") or "image").name
        return image.tobytes() + repr((image.size, image.mode)).encode(), name
    raise LoupeError(f"Cannot explain a {type(image).__name__} as an image.",
                     "pass a file path, bytes, a PIL image or an RGB array.")


def _background(job: _Job, split: str = "train") -> pd.DataFrame:
    if job.progress is not None:
        job.progress(0.0, f"loading the run's {split} rows")
    try:
        frame = shap_tabular.raw_split(job.store, job.run_id, split)
    except LoupeError as exc:
        raise LoupeError(f"SHAP for tables needs the run's data ({split} rows), and it could not "
                         f"be read: {exc.problem}", exc.fix) from exc
    missing = [c for c in _input_columns(job) if c not in frame.columns]
    if missing:
        source = job.store.config(job.run_id).data.source
        raise LoupeError(f"The run's data file {source} has changed since training: column "
                         f"{missing[0]!r} is gone ({len(missing)} missing in all).",
                         "restore the file the run was trained on, or train a new run on this one.")
    return frame


def _tabular(job: _Job, row: Any, method: str, params: dict[str, Any]) -> Explanation:
    from core.privacy import mask_frame

    if method == "shap_global":
        opts = _check(params, {"rows": shap_tabular.GLOBAL_ROWS, "split": "test", "background": 50,
                               "algorithm": "auto", "max_evals": shap_tabular.DEFAULT_MAX_EVALS,
                               "seed": 0}, "global SHAP")
        label = f"global: up to {opts['rows']} rows of the {opts['split']} split"

        def compute_global() -> Explanation:
            predictor = job.predictor()
            split = _background(job, opts["split"])
            rows = split.sample(n=min(int(opts["rows"]), len(split)), random_state=int(opts["seed"]))
            return shap_tabular.explain_global(
                predictor, rows, _background(job), job.run_id, opts["background"], opts["algorithm"],
                opts["max_evals"], opts["seed"], job.progress)

        return job.cached("shap_global", label, opts, label, compute_global)
    if row is None:
        raise LoupeError("Nothing to explain: no row given.",
                         "pass a row (a dict or one-row DataFrame), or --method global.")
    columns = _input_columns(job)
    frame = shap_tabular.row_frame(row, columns)
    opts = _check(params, {"background": shap_tabular.DEFAULT_BACKGROUND, "algorithm": "auto",
                           "max_evals": shap_tabular.DEFAULT_MAX_EVALS, "seed": 0}, "table SHAP")
    masked = json.dumps(mask_frame(frame).iloc[0].map(_jsonable).to_dict(), default=str)

    def compute() -> Explanation:
        return shap_tabular.explain_row(job.predictor(), frame, _background(job), job.run_id,
                                        opts["background"], opts["algorithm"], opts["max_evals"],
                                        opts["seed"], job.progress)

    return job.cached("shap", shap_tabular.row_bytes(frame), opts, masked, compute)


def _input_columns(job: _Job) -> list[str]:
    """The run's feature columns, read from its artifact (no model load)."""
    path = job.store.artifact_path(job.run_id, "model") / "preprocessing.json"
    if path.is_file():
        from core.datasets.tabular_prep import Preprocessor

        return Preprocessor.from_dict(json.loads(path.read_text())).input_columns
    return list(job.predictor().input_columns)


def _jsonable(value: Any) -> Any:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    return value.item() if isinstance(value, np.generic) else value


def explain_global(run_id: str, store: Any = None, progress: ProgressFn | None = None,
                   **params: Any) -> Explanation:
    """Global importance and dependence data of a tabular run (mean |SHAP| over a sample)."""
    return explain(run_id, None, method="shap_global", store=store, progress=progress, **params)


def explanation_history(run_id: str | None = None, store: Any = None) -> pd.DataFrame:
    """Cached explanations (masked inputs, method, parameters, seconds), newest first."""
    from core.explain.cache import ExplanationCache
    from core.store import RunStore

    return ExplanationCache(store if store is not None else RunStore()).list(run_id)
