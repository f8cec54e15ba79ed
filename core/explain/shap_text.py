"""SHAP for text runs: per-token attributions with shap's Partition explainer and Text masker.

The masker is built over the run's own tokenizer, so SHAP's players are the model's tokens and a
masked token becomes the tokenizer's mask token. Speed comes from the model function, not from
approximating more: masked texts reach the model in large batches sized for the device, run
length-sorted, padded per chunk, under ``torch.inference_mode`` with the runtime's autocast
(``TextPredictor.predict_proba``). By default the batches are built ahead of shap's own loop
(``owen_prefetch``), so the same ``max_evals`` gives exactly the Owen values of shap's default
call, only sooner; ``lookahead=False`` instead passes the batch size to the explainer call.

Additivity: for each explained class, sum of token values = f(text) - f(all tokens masked).
Tokens leave this module through ``mask_tokens`` only.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from core.explain.common import (
    Progress,
    ProgressFn,
    device_batch_size,
    pick_classes,
    prediction_summary,
    prepare_shap,
    to_output,
)
from core.explain.owen_prefetch import PrefetchingFunction
from core.explain.result import Explanation

DEFAULT_MAX_EVALS = 500
OUTPUTS = ("probability", "logit")


class TextModelFunction:
    """f(list of masked strings) -> (n, classes) outputs; counts calls and evaluations."""

    def __init__(self, predictor: Any, output: str = "probability", batch_size: int | None = None,
                 progress: Progress | None = None) -> None:
        self.predictor, self.output, self.progress = predictor, output, progress
        self.batch_size = batch_size or device_batch_size(predictor.runtime)
        self.calls = 0
        self.evals = 0

    def __call__(self, texts: Sequence[Any]) -> np.ndarray:
        texts = [str(t) for t in np.asarray(texts, dtype=object).reshape(-1)]
        self.calls += 1
        self.evals += len(texts)
        probs = self.predictor.predict_proba(texts, batch_size=self.batch_size)
        if self.progress is not None:
            self.progress.step(len(texts))
        return to_output(np.asarray(probs, dtype=np.float64), self.output)


def explain_text(predictor: Any, text: str, run_id: str = "", target_class: Any = None,
                 max_evals: int = DEFAULT_MAX_EVALS, output: str = "probability",
                 batch_size: int | None = None, progress: ProgressFn | None = None,
                 fn_hook: Any = None, lookahead: bool = True) -> Explanation:
    """Token attributions for the predicted class (and any ``target_class``) of one text.

    ``lookahead`` (default) keeps shap's refinement order — the attributions of shap's default
    call with the same ``max_evals`` — and batches the model calls ahead of the loop; without
    it SHAP itself is asked for ``batch_size`` inputs at a time (exactly ``max_evals`` model
    evaluations, but whole tree levels refined at once, so slightly different values).
    """
    from core.models import text_models as tm
    from core.privacy import mask_tokens

    shap = prepare_shap()
    labels = list(predictor.labels)
    probs = predictor.predict_proba([text])[0]
    classes = pick_classes(target_class, labels, int(np.argmax(probs)))
    max_evals = max(int(max_evals), 10)
    tick = Progress(progress, max_evals, "SHAP (text)")
    fn = TextModelFunction(predictor, output, batch_size, tick)
    if fn_hook is not None:
        fn_hook(fn)
    notices = []
    limit = int(predictor.meta.get("max_length") or 512)
    _, truncated = tm.encode_texts(predictor.tokenizer, [text], limit)
    if truncated[0]:
        notices.append(f"The text is longer than the model reads (max_length {limit} tokens): words "
                       "past that point cannot change the prediction and get no attribution.")
    masker = shap.maskers.Text(predictor.tokenizer)
    model: Any = fn
    if lookahead:  # shap's own refinement order, model calls batched ahead (owen_prefetch)
        warm = 2.5 if predictor.runtime.device.type == "cuda" else 1.5  # GPU: calls cost more than evals
        model = PrefetchingFunction(fn, masker, text, budget=int(warm * max_evals))
        model.warm()
    explainer = shap.explainers.Partition(model, masker, output_names=labels)
    result = explainer([text], max_evals=max_evals, outputs=classes, silent=True,
                       batch_size=masker.default_batch_size if lookahead else fn.batch_size)
    tick.done("SHAP (text): done")
    values = np.asarray(result.values[0], dtype=np.float64).reshape(-1, len(classes))
    base = np.asarray(result.base_values[0], dtype=np.float64).reshape(len(classes))
    tokens = mask_tokens(_name_special([str(t) for t in result.data[0]], predictor.tokenizer))
    frame = pd.DataFrame({"position": np.arange(len(tokens)), "token": tokens})
    for j, c in enumerate(classes):
        frame[f"shap_{labels[c]}"] = values[:, j]
    outputs = to_output(np.asarray(probs, dtype=np.float64)[None, :], output)[0]
    prediction = prediction_summary(probs, labels)
    prediction["output"] = output
    prediction["explained_outputs"] = {labels[c]: float(outputs[c]) for c in classes}
    return Explanation(
        run_id=run_id, kind="text", method="shap", values=values, base_value=base,
        prediction=prediction, labels=[labels[c] for c in classes], target_classes=classes,
        tokens=tokens, frames={"tokens": frame}, notices=notices,
        info={"explainer": "partition", "masker": "text", "max_evals": max_evals, "output": output,
              "batch_size": fn.batch_size, "model_calls": fn.calls, "evaluations": fn.evals,
              "lookahead": lookahead,
              "requested": getattr(model, "requested", fn.evals)},
    )


def _name_special(tokens: list[str], tokenizer: Any) -> list[str]:
    """shap shows the start/end special tokens as ''; name them ([CLS], [SEP], <s>, …) so a
    share of credit they receive when ``max_evals`` stops early is visible, not a blank."""
    out = list(tokens)
    if out and out[0] == "":
        out[0] = getattr(tokenizer, "cls_token", None) or getattr(tokenizer, "bos_token", None) or "<start>"
    if len(out) > 1 and out[-1] == "":
        out[-1] = getattr(tokenizer, "sep_token", None) or getattr(tokenizer, "eos_token", None) or "<end>"
    return out
