"""Explanations of text runs: token SHAP (``shap_text``) and attention views (``attention``)."""

from __future__ import annotations

from typing import Any

import numpy as np

from core.errors import LoupeError
from core.explain import shap_text
from core.explain.base import Explainer, Job, check_params, chosen_classes
from core.explain.result import Explanation


class TextExplainer(Explainer):
    methods = ("shap", "attention")
    input_hint = "pass a text (--input 'some text')."

    def explain(self, job: Job, input: Any, method: str, target_class: Any,
                params: dict[str, Any]) -> Explanation:
        from core.privacy import mask_text

        text = input
        if not isinstance(text, str) or not text.strip():
            raise LoupeError("A text run explains a text; the input is empty or not a string.",
                             "pass the text to explain, e.g. --input 'great product, works well'.")
        masked = mask_text(text)
        if method == "attention":
            return _attention(job, text, masked, params)
        opts = check_params(params, {"max_evals": shap_text.DEFAULT_MAX_EVALS, "output": "probability",
                                     "batch_size": job.batch_size(), "lookahead": True,
                                     "window": shap_text.WINDOW_TOKENS}, "text SHAP")
        opts["target_class"] = chosen_classes(target_class)

        def compute() -> Explanation:
            return shap_text.explain_text(job.predictor(), text, job.run_id, opts["target_class"],
                                          opts["max_evals"], opts["output"], opts["batch_size"],
                                          job.progress, lookahead=opts["lookahead"],
                                          window=opts["window"])

        return job.cached("shap", text, opts, masked, compute)

    def cli_params(self, method: str) -> tuple[str, ...]:
        return () if method == "attention" else ("max_evals", "output")

    def counterfactual(self, run_id: str, input: Any, store: Any, options: dict[str, Any]) -> Any:
        from core.whatif import text_counterfactual

        if not isinstance(input, str):
            raise LoupeError("A text counterfactual needs one text.", "pass --input 'some text'.")
        return text_counterfactual(run_id, input, options.get("edit") or "remove", store,
                                   options.get("max_evals"), options.get("device", "auto"))

    def figures(self, expl: Explanation, start: int = 0, size: int | None = None,
                layer: int | None = None, **options: Any) -> dict[str, Any]:
        from core.explain import figures as f

        if expl.method == "attention":
            att = expl.arrays["attentions"]
            tokens = expl.tokens or []
            layer = att.shape[0] - 1 if layer is None else layer
            return {"heads": f.head_overview(expl.frames["heads"]),
                    "rollout": f.attention_matrix(expl.arrays["rollout"], tokens, "Attention rollout",
                                                  start, size or 64, colorscale="Viridis"),
                    f"layer_{layer}": f.attention_heads(att, tokens, layer, start=start,
                                                        size=size or 32,
                                                        summary=expl.frames.get("heads"))}
        return {f"tokens_{label}": f.token_strip(expl.tokens or [], expl.values[:, j], label,
                                                 float(np.ravel(expl.base_value)[j]))
                for j, label in enumerate(expl.labels)}


def _attention(job: Job, text: str, masked: str, params: dict[str, Any]) -> Explanation:
    from core.explain.attention import eager_model, explain_attention

    opts = check_params(params, {"max_length": None}, "attention")

    def compute() -> Explanation:
        predictor = job.predictor()
        model = eager_model(predictor, job.artifact_dir())
        return explain_attention(predictor, text, job.run_id, model=model,
                                 max_length=opts["max_length"])

    return job.cached("attention", text, opts, masked, compute)
