"""Explainability with no UI: SHAP for text, images and tables; attention views; a cache.

    from core.explain import explain
    expl = explain(run_id, "great blender, loud motor")          # text SHAP
    expl = explain(run_id, "great blender", method="attention")  # attention view
    expl = explain(run_id, "photo.jpg", target_class="cat")      # image SHAP
    expl = explain(run_id, {"sqft": 1200, "garage": "yes"})      # one table row
    expl = explain(run_id, method="shap_global")                 # table: global importance
    expl.frame(); expl.values; expl.base_value; expl.figures(); expl.to_html("out.html")

Explanations are stored in the run store (``explanations``) keyed by run, input fingerprint,
method and parameters, so asking again is served from DuckDB (``expl.from_cache``). Everything
shown or stored is masked first (``core.privacy``). Heavy libraries (shap, transformers) load
on first use, not on import.
"""

from core.explain.api import METHODS, explain, explain_global, explanation_history
from core.explain.attention import head_summary, rollout, top_heads
from core.explain.cache import ExplanationCache
from core.explain.figures import (
    attention_heads,
    attention_matrix,
    dependence_scatter,
    figures_to_html,
    head_overview,
    image_overlay,
    importance_bar,
    token_strip,
    waterfall,
)
from core.explain.result import Explanation

__all__ = [
    "METHODS", "Explanation", "ExplanationCache", "attention_heads", "attention_matrix",
    "dependence_scatter", "explain", "explain_global", "explanation_history", "figures_to_html",
    "head_overview", "head_summary", "image_overlay", "importance_bar", "rollout", "token_strip",
    "top_heads", "waterfall",
]
