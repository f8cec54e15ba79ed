"""The toy kind's explainer: Shapley values of each class probability over its columns, through
shap's public API (``shap.KernelExplainer`` over the training rows the artifact keeps; with three
columns it evaluates every coalition, so the values are exact), drawn as a waterfall for the
predicted class."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from core.explain.base import Explainer, Job, check_params, json_row
from core.explain.common import prediction_summary, prepare_shap
from core.explain.result import Explanation


class ToyExplainer(Explainer):
    methods = ("shap",)
    input_hint = """pass a row of numbers, e.g. --input '{"x0": 1.5, "x1": -1, "x2": 0}'."""

    def explain(self, job: Job, input: Any, method: str, target_class: Any,
                params: dict[str, Any]) -> Explanation:
        opts = check_params(params, {}, "toy SHAP")
        row = pd.DataFrame([input]) if isinstance(input, dict) else pd.DataFrame(input).head(1)
        raw = json.dumps(row.iloc[0].to_dict(), sort_keys=True, default=str)

        def compute() -> Explanation:
            predictor = job.predictor()
            x = predictor.frame(row).to_numpy(dtype=float)
            shap = prepare_shap()
            background = np.asarray(predictor.meta["background"], dtype=float)
            result = shap.KernelExplainer(predictor.predict_proba, background)(x, silent=True)
            values, base = np.asarray(result.values[0]), np.asarray(result.base_values[0])
            prediction = prediction_summary(predictor.predict_proba(x)[0], predictor.labels)
            local = pd.DataFrame({"feature": predictor.features, "value": x[0],
                                  "shap": values[:, prediction["index"]]})
            return Explanation(run_id=job.run_id, kind="toy", method=method, values=values,
                               base_value=base, prediction=prediction, labels=list(predictor.labels),
                               target_classes=list(range(len(predictor.labels))),
                               features=list(predictor.features), frames={"local": local},
                               info={"explainer": "shap.KernelExplainer"})

        return job.cached(method, raw, opts, raw, compute)

    def cli_input(self, value: str, is_file: bool, read_file: Callable[[], Any]) -> Any:
        return read_file() if is_file else json_row(value)

    def pick_input(self, inputs: Any, row: int) -> Any:
        return inputs.iloc[[row]]

    def figures(self, expl: Explanation, **options: Any) -> dict[str, Any]:
        from core.explain.figures import waterfall

        j = int(expl.prediction["index"])
        local = expl.frames["local"]
        return {"waterfall": waterfall(local["feature"], local["shap"], float(expl.base_value[j]),
                                       float(expl.prediction["confidence"]),
                                       local["value"].astype(str).tolist())}
