"""Explainability with no UI: SHAP for text, images and tables; attention views; a cache.

    from core.explain import explain
    expl = explain(run_id, "great blender, loud motor")          # text SHAP
    expl = explain(run_id, "great blender", method="attention")  # attention view
    expl = explain(run_id, "photo.jpg", target_class="cat")      # image SHAP
    expl = explain(run_id, {"sqft": 1200, "garage": "yes"})      # one table row
    expl = explain(run_id, method="shap_global")                 # table: global importance
    expl = explain_folder(bundle_dir, "text", "great blender")  # a model folder, no history
    methods_for("text")                                          # ("shap", "attention")
    expl.frame(); expl.values; expl.base_value; expl.figures(); expl.to_html("out.html")

What differs per task kind lives in that kind's ``Explainer`` (``core.explain.base``; the
built-in ones in ``text.py``, ``image.py``, ``tabular.py``), named by ``Task.explainer_ref``.
Explanations are stored in the run store (``explanations``) keyed by run, input fingerprint,
method and parameters, so asking again is served from DuckDB (``expl.from_cache``). Everything
shown or stored is masked first (``core.privacy``). Names below load lazily: importing a
submodule (``core.explain.shap_text``) never pulls in plotly, DuckDB or shap on its own.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "explain": "api", "explain_folder": "api", "bundle_cache_dir": "api", "explain_global": "api",
    "explanation_history": "api",
    "explainer_for": "api", "methods_for": "api", "Explainer": "base", "Job": "base",
    "head_summary": "attention", "rollout": "attention", "top_heads": "attention",
    "ExplanationCache": "cache", "Explanation": "result",
    "attention_heads": "figures", "attention_matrix": "figures", "dependence_scatter": "figures",
    "figures_to_html": "figures", "head_overview": "figures", "image_overlay": "figures",
    "importance_bar": "figures", "token_strip": "figures", "waterfall": "figures",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'core.explain' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"core.explain.{_EXPORTS[name]}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
