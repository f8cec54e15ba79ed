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

Long texts (issue 20): when the model reads more than ``WINDOW_TOKENS`` (128) tokens of a text,
the text is explained in windows: the tokens the model reads are cut at spaces between words into
near-equal windows of at most about 128 tokens, and each window gets its own Partition pass whose
players are that window's tokens, while the model function puts the masked window back between
the unmasked text before and after it. What this means for reading the values (said on screen in
a notice): a window's values add up to that window's own effect, f(text) - f(text with only that
window masked), the rest of the text fixed; effects shared between windows are not split between
them. The budget: every evaluation reads the whole text, so its cost grows with the text (about
0.2 s per evaluation of a 400-token text on 2 CPU cores, MiniLM); the one-piece explanation of a
400-token text at max_evals 500 took 197-324 s there (1,390 evaluations: the look-ahead guesses
poorly on a deep tree). So each window pass runs shap's frontier batches with exactly its budget
(no look-ahead), and the budget falls as the text grows: ``long_text_evals`` gives the model as
many tokens to read as a 128-token text at the same max_evals (500 -> 160 evaluations for 400
tokens, at least ``MIN_WINDOW_EVALS`` per window): 27 s for 400 tokens
(``benchmarks/long_text_bench.py``, docs/benchmarks.md section 19).
Why windows: each window's values have a stated meaning a reader can check (its own effect,
rest fixed), and the masked inputs stay mostly the written text (at most one window masked),
where a one-piece tree's first splits mask half of a long text at once. Measured against the
one-piece values at the full budget (500), one piece at the same 160 evaluations agrees more
(Pearson r 0.88, 14 of the top 20 tokens, 21.6 s) than the windows (r 0.74, 8 of 20, 27.4 s);
that reference shares the one-piece tree, so it measures agreement with the one-piece method,
not faithfulness to the model. Texts the model reads 128 tokens or fewer of are explained in one
piece, exactly as before.
"""

from __future__ import annotations

import re
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
    reproducible_ties,
    to_output,
)
from core.explain.owen_prefetch import PrefetchingFunction
from core.explain.result import Explanation

DEFAULT_MAX_EVALS = 500
MIN_WINDOW_EVALS = 40  # per window: about 20 splits of its coalition tree
WINDOW_TOKENS = 128  # texts the model reads more tokens of are explained in windows of at most this
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
                 fn_hook: Any = None, lookahead: bool = True,
                 window: int = WINDOW_TOKENS) -> Explanation:
    """Token attributions for the predicted class (and any ``target_class``) of one text.

    ``lookahead`` (default) keeps shap's refinement order — the attributions of shap's default
    call with the same ``max_evals`` — and batches the model calls ahead of the loop; without
    it SHAP itself is asked for ``batch_size`` inputs at a time (exactly ``max_evals`` model
    evaluations, but whole tree levels refined at once, so slightly different values).

    A text of which the model reads more than ``window`` tokens is explained window by window
    (``_explain_windows``, see the module docstring); shorter texts are unaffected by ``window``.
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
                       "past that point cannot change the prediction, get no attribution and are not shown.")
    spans = _windows(predictor.tokenizer, text, limit, window) if window else None
    if spans is not None:
        return _explain_windows(shap, predictor, text, spans, run_id, classes, labels, probs,
                                max_evals, output, fn, tick, notices, window)
    if truncated[0]:  # the players are the tokens the model reads, not the whole pasted text
        text = _read_part(predictor.tokenizer, text, limit)
    masker = shap.maskers.Text(predictor.tokenizer)
    model: Any = fn
    if lookahead:  # shap's own refinement order, model calls batched ahead (owen_prefetch)
        warm = 2.5 if predictor.runtime.device.type == "cuda" else 1.5  # GPU: calls cost more than evals
        model = PrefetchingFunction(fn, masker, text, budget=int(warm * max_evals))
        model.warm()
    explainer = shap.explainers.Partition(model, masker, output_names=labels)
    with reproducible_ties():
        result = explainer([text], max_evals=max_evals, outputs=classes, silent=True,
                           batch_size=masker.default_batch_size if lookahead else fn.batch_size)
    tick.done("SHAP (text): done")
    values = np.asarray(result.values[0], dtype=np.float64).reshape(-1, len(classes))
    base = np.asarray(result.base_values[0], dtype=np.float64).reshape(len(classes))
    tokens = mask_tokens(_name_special([str(t) for t in result.data[0]], predictor.tokenizer))
    frame = pd.DataFrame({"position": np.arange(len(tokens)), "token": tokens})
    return _explanation(run_id, values, base, tokens, frame, classes, labels, probs, output, notices,
                        {"max_evals": max_evals, "batch_size": fn.batch_size, "model_calls": fn.calls,
                         "evaluations": fn.evals, "lookahead": lookahead,
                         "requested": getattr(model, "requested", fn.evals)})


def _explanation(run_id: str, values: np.ndarray, base: np.ndarray, tokens: list[str],
                 frame: pd.DataFrame, classes: list[int], labels: list[Any], probs: np.ndarray,
                 output: str, notices: list[str], info: dict[str, Any]) -> Explanation:
    """The text SHAP result (one piece or windowed): a column of values per explained class."""
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
        info={"explainer": "partition", "masker": "text", "output": output, **info},
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


def _read_part(tokenizer: Any, text: str, limit: int) -> str:
    """``text`` up to the end of the word holding the last token the model reads (``limit``
    tokens with the specials): what follows cannot change the output, and leaving it out keeps
    SHAP's players, and its cost, to what the model reads. Unchanged without offsets."""
    try:
        enc = tokenizer(text[: limit * 24], truncation=True, max_length=limit,
                        return_offsets_mapping=True, return_special_tokens_mask=True, verbose=False)
    except (NotImplementedError, ValueError):  # a slow tokenizer has no offsets
        return text
    ends = [o[1] for o, special in zip(enc["offset_mapping"], enc["special_tokens_mask"], strict=True)
            if not special and o[1] > o[0]]
    if not ends:
        return text
    end = max(ends)
    rest = re.search(r"\s", text[end:])
    return text[: end + rest.start()] if rest else text


def _windows(tokenizer: Any, text: str, limit: int, window: int) -> list[tuple[int, int, int]] | None:
    """(first char, end char, tokens) of each window over the part of ``text`` the model reads, cut
    at whitespace between words into near-equal windows of at most about ``window`` tokens; None
    when the model reads ``window`` tokens or fewer (the text is explained in one piece)."""
    try:
        enc = tokenizer(text[: limit * 24], truncation=True, max_length=limit,
                        return_offsets_mapping=True, return_special_tokens_mask=True, verbose=False)
    except (NotImplementedError, ValueError):  # a slow tokenizer has no offsets: one piece
        return None
    spans = [tuple(o) for o, special in zip(enc["offset_mapping"], enc["special_tokens_mask"],
                                            strict=True) if not special and o[1] > o[0]]
    n = len(spans)
    if n <= window:
        return None
    starts = [0] + [j for j in range(1, n) if text[spans[j - 1][1]:spans[j][0]].strip() == ""
                    and spans[j][0] > spans[j - 1][1]]  # tokens that begin a word
    count = -(-n // window)
    cuts = [0]
    for i in range(1, count):
        ideal = round(n * i / count)
        cut = min((j for j in starts if j > cuts[-1]), key=lambda j: abs(j - ideal), default=None)
        if cut is not None and cut not in cuts:
            cuts.append(cut)
    cuts.append(n)
    return [(spans[a][0], spans[b - 1][1], b - a) for a, b in zip(cuts, cuts[1:], strict=False)]


def _explain_windows(shap: Any, predictor: Any, text: str, spans: list[tuple[int, int, int]],
                     run_id: str, classes: list[int], labels: list[Any], probs: np.ndarray,
                     max_evals: int, output: str, fn: TextModelFunction, tick: Progress,
                     notices: list[str], window: int) -> Explanation:
    """One Partition pass per window: its tokens are the players, the rest of what the model reads
    stays as written (the model function puts the masked window back between the two)."""
    from core.privacy import mask_tokens

    read = text[: spans[-1][1]]
    n = sum(k for _, _, k in spans)
    budget = long_text_evals(max_evals, n, window)
    k_out = len(classes)
    values, tokens, windows, token_window = [], [], [], []
    for w, (a, b, k) in enumerate(spans):
        prefix, piece, suffix = read[:a].rstrip(), read[a:b], read[b:].lstrip()

        def f(texts: Any, prefix: str = prefix, suffix: str = suffix) -> np.ndarray:
            joined = [" ".join(p for p in (prefix, str(t), suffix) if p)
                      for t in np.asarray(texts, dtype=object).reshape(-1)]
            return fn(joined)

        masker = shap.maskers.Text(predictor.tokenizer)
        evals = max(int(round(budget * k / n)), MIN_WINDOW_EVALS)
        explainer = shap.explainers.Partition(f, masker, output_names=labels)
        with reproducible_ties():
            result = explainer([piece], max_evals=evals, outputs=classes, silent=True,
                               batch_size=fn.batch_size)
        vals = np.asarray(result.values[0], dtype=np.float64).reshape(-1, k_out)
        toks = [str(t) for t in result.data[0]]
        inner = [i for i, t in enumerate(toks) if t != ""]  # the window's own [CLS]/[SEP] never vary
        values.append(vals[inner])
        tokens += [toks[i] for i in inner]
        token_window += [w] * len(inner)
        base_w = np.asarray(result.base_values[0], dtype=np.float64).reshape(k_out)
        windows.append({"window": w, "tokens": len(inner), "evaluations": evals,
                        "masked_output": [float(x) for x in base_w],
                        "effect": [float(x) for x in vals.sum(axis=0)]})
    tick.done("SHAP (text): done")
    outputs = to_output(np.asarray(probs, dtype=np.float64)[None, :], output)[0]
    zero = np.zeros((1, k_out))
    values_all = np.vstack([zero, *values, zero])  # the text's [CLS]/[SEP]: kept, never a player
    names = _name_special(["", *tokens, ""], predictor.tokenizer)
    tokens_out = mask_tokens(names)
    base = np.array([outputs[c] for c in classes]) - values_all.sum(axis=0)
    frame = pd.DataFrame({"position": np.arange(len(tokens_out)), "token": tokens_out,
                          "window": [-1, *token_window, -1]})
    notices.append(
        f"This text is long ({n} tokens read by the model), so it was explained in {len(spans)} "
        f"windows of at most about {window} tokens ({', '.join(str(k) for *_, k in spans)}), "
        f"{sum(x['evaluations'] for x in windows)} model evaluations in all (so neighbouring "
        "tokens often share one value). Each window's tokens "
        "were masked while the rest of the text stayed as written: a window's values add up to "
        "that window's own effect (the output on the full text minus the output with only that "
        "window masked). Values compare well within a window; across windows they do not add up "
        "to one whole-text total, and effects shared between windows are not split between them.")
    return _explanation(run_id, values_all, base, tokens_out, frame, classes, labels, probs, output,
                        notices, {"max_evals": max_evals, "batch_size": fn.batch_size,
                                  "model_calls": fn.calls, "evaluations": fn.evals, "lookahead": False,
                                  "requested": fn.evals, "window": window, "windows": windows})


def long_text_evals(max_evals: int, n_tokens: int, window: int = WINDOW_TOKENS) -> int:
    """Model evaluations for a text of ``n_tokens`` (> ``window``) read tokens, all windows together:
    the model reads about as many tokens in all as for a ``window``-token text at ``max_evals``
    (each evaluation reads the whole text, so the count falls as the text grows)."""
    return max(int(max_evals) * int(window) // max(int(n_tokens), 1), 1)
