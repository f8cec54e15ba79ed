"""The smallest set of words whose removal flips a text run's predicted class.

The search, each step verified by the model:
1. every single-word edit, in one batch: one word may be enough;
2. word-level SHAP (shap's Partition explainer over the text's words, the edit as the masking)
   ranks the words by how much they support the predicted class; edits of the top 1, 2, 3 …
   words go to the model in one batch, and the first that flips the class is kept;
3. pruning: a word whose restoration still leaves the class flipped is put back, until every
   word left is needed (no single word can be restored).
An edit either removes the words or replaces each with the tokenizer's mask token. The result
says how many model calls and evaluations the search took. Words and texts leave this module
masked (``mask_text``): a counterfactual never shows a name the input carried.
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from core.errors import LoupeError
from core.explain.shap_text import TextModelFunction

EDITS = ("remove", "mask")
WORD = re.compile(r"\[\w+\]|<\w+>|\w+(?:['’\-]\w+)*")  # a word, or a mask token ([MASK], <mask>)
CUT = "[LOUPECUT]"  # stands for a removed word while SHAP masks; cut out before the model sees it
DEFAULT_MAX_EVALS = 300
MAX_WORDS = 600  # past this the single-word sweep and SHAP's tree get slow: say so


@dataclass
class TextCounterfactual:
    """What the search found. ``found`` False: no edit of up to ``tried`` words flipped it."""

    found: bool
    edit: str  # "remove" | "mask"
    original_label: str
    original_probabilities: dict[str, float]
    new_label: str
    new_probabilities: dict[str, float]
    words: list[str]  # the edited words, masked, in text order
    positions: list[int]  # their word positions (0-based, in the text's words)
    edited_text: str  # masked
    word_count: int
    tried: int
    model_calls: int
    evaluations: int
    seconds: float
    word_values: list[float] = field(default_factory=list)  # SHAP value per word (predicted class)
    notices: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}

    def frame(self) -> pd.DataFrame:
        """One row per edited word (masked) with its SHAP value."""
        return pd.DataFrame({"position": self.positions, "word": self.words,
                             "shap": [self.word_values[i] for i in self.positions]})

    def summary(self) -> str:
        """One sentence for people (masked)."""
        from core.output import mask_label

        verb = "Removing" if self.edit == "remove" else "Masking"
        if not self.found:
            return f"No change found: no edit of up to {self.tried} words changes the decision."
        return (f"{verb} {len(self.words)} of {self.word_count} words ({', '.join(self.words)}) changes "
                f"{mask_label(self.original_label)} to {mask_label(self.new_label)}.")

    def lines(self) -> list[str]:
        """What a person reads (every field already masked)."""
        from core.output import mask_label, mask_message

        verb = "removing" if self.edit == "remove" else "masking"
        out = [f"counterfactual ({verb} words)"]
        if self.found:
            out += [f"{verb} {len(self.words)} of {self.word_count} words flips "
                    f"{mask_label(self.original_label)} -> {mask_label(self.new_label)}:",
                    "  words:  " + ", ".join(self.words), "  edited: " + self.edited_text]
        out += [f"original: {probabilities_line(self.original_probabilities)}",
                f"edited:   {probabilities_line(self.new_probabilities)}"]
        out += [f"note: {mask_message(n)}" for n in self.notices]
        out.append(f"({self.model_calls} model calls, {self.evaluations} texts scored, {self.seconds:.2f} s)")
        return out


def probabilities_line(probs: dict[str, float]) -> str:
    from core.output import mask_label

    return ", ".join(f"{mask_label(k)} {v:.1%}" for k, v in probs.items())


class WordTokenizer:
    """shap's Text masker interface over words: ``input_ids`` are the words, with their spans."""

    def __call__(self, s: str, return_offsets_mapping: bool = True) -> dict[str, Any]:
        matches = list(WORD.finditer(s))
        out: dict[str, Any] = {"input_ids": [m.group(0) for m in matches]}
        if return_offsets_mapping:
            out["offset_mapping"] = [m.span() for m in matches]
        return out


def word_spans(text: str) -> list[tuple[int, int]]:
    return [m.span() for m in WORD.finditer(text)]


def edit_text(text: str, spans: Sequence[tuple[int, int]], chosen: Sequence[int], edit: str,
              mask_token: str) -> str:
    """The text with the chosen words removed (or each replaced by ``mask_token``)."""
    out, pos = [], 0
    for i in sorted(set(chosen)):
        start, end = spans[i]
        out.append(text[pos:start])
        out.append(mask_token if edit == "mask" else "")
        pos = end
    out.append(text[pos:])
    edited = "".join(out)
    if edit == "remove":
        edited = re.sub(r"[ \t]{2,}", " ", edited).strip()
    return edited


def find_counterfactual(predictor: Any, text: str, edit: str = "remove",
                        max_evals: int = DEFAULT_MAX_EVALS, max_words: int | None = None,
                        batch_size: int = 64) -> TextCounterfactual:
    """The smallest word edit found that changes ``predictor``'s predicted class of ``text``."""
    from core.explain.common import prepare_shap
    from core.privacy import mask_text

    if edit not in EDITS:
        raise LoupeError(f"Unknown edit {edit!r}.", f"use one of {', '.join(EDITS)}.")
    if not isinstance(text, str) or not text.strip():
        raise LoupeError("A counterfactual needs a text; the input is empty.",
                         "pass the text, e.g. --input 'great product, works well'.")
    spans = word_spans(text)
    if not spans:
        raise LoupeError("The text has no words to edit.", "pass a text with words in it.")
    notices = []
    if len(spans) > MAX_WORDS:
        notices.append(f"The text has {len(spans)} words; the search edits only the first {MAX_WORDS}.")
        spans = spans[:MAX_WORDS]
    start = time.perf_counter()
    mask_token = str(getattr(predictor.tokenizer, "mask_token", None) or "[MASK]")
    labels = [str(x) for x in predictor.labels]
    model = TextModelFunction(predictor, "probability", batch_size)  # counts calls and texts
    probs0 = model([text])[0]
    c0 = int(np.argmax(probs0))

    def edited(chosen: Sequence[int]) -> str:
        return edit_text(text, spans, chosen, edit, mask_token)

    def first_flip(sets: list[list[int]]) -> tuple[int, np.ndarray] | None:
        if not sets:
            return None
        probs = model([edited(s) for s in sets])
        flipped = np.flatnonzero(probs.argmax(axis=1) != c0)
        return (int(flipped[0]), probs[flipped[0]]) if len(flipped) else None

    n = len(spans)
    # 1. single words: the edit with the largest drop in the class's probability among flips
    singles = model([edited([i]) for i in range(n)])
    flips = np.flatnonzero(singles.argmax(axis=1) != c0)
    values = _word_shap(prepare_shap(), model, text, c0, labels, max_evals, mask_token, edit)
    values = values[:n] if len(values) >= n else np.pad(values, (0, n - len(values)))
    limit = n if max_words is None else max(1, min(int(max_words), n))
    if len(flips):
        best = int(flips[np.argmin(singles[flips, c0])])
        chosen, new_probs = [best], singles[best]
    else:
        # 2. SHAP's ranking: the top-k words for k = 2 .. limit, one batch
        order = [int(i) for i in np.argsort(-values, kind="stable")]
        hit = first_flip([order[:k] for k in range(2, limit + 1)])
        chosen, new_probs = ([], probs0) if hit is None else (order[:hit[0] + 2], hit[1])
        # 3. prune: restore words (weakest first) while the class stays flipped
        while len(chosen) > 1:
            trial = [[w for w in chosen if w != drop] for drop in sorted(chosen, key=lambda w: values[w])]
            pruned = first_flip(trial)
            if pruned is None:
                break
            chosen, new_probs = trial[pruned[0]], pruned[1]
    found = bool(chosen)
    chosen = sorted(chosen)
    new_label = labels[int(np.argmax(new_probs))]
    if not found:
        notices.append(f"No edit of up to {limit} words flipped the prediction ({labels[c0]}): the "
                       "words SHAP ranks highest do not carry the decision alone.")
    return TextCounterfactual(
        found=found, edit=edit, original_label=labels[c0],
        original_probabilities=dict(zip(labels, map(float, probs0), strict=True)),
        new_label=new_label, new_probabilities=dict(zip(labels, map(float, new_probs), strict=True)),
        words=[mask_text(text[spans[i][0]:spans[i][1]]) for i in chosen], positions=chosen,
        edited_text=mask_text(edited(chosen)), word_count=n, tried=limit,
        model_calls=model.calls, evaluations=model.evals, seconds=time.perf_counter() - start,
        word_values=[float(v) for v in values], notices=notices)


def _word_shap(shap: Any, model: TextModelFunction, text: str, c0: int, labels: list[str],
               max_evals: int, mask_token: str, edit: str) -> np.ndarray:
    """SHAP value of every word for the predicted class: the words are the players, and a hidden
    word is edited as the search edits it (replaced by the mask token, or cut out)."""
    token = mask_token if edit == "mask" else CUT

    def f(texts: Sequence[Any]) -> np.ndarray:
        texts = [str(t) for t in np.asarray(texts, dtype=object).reshape(-1)]
        if edit == "remove":
            texts = [re.sub(r"[ \t]{2,}", " ", t.replace(CUT, "")).strip() for t in texts]
        return model(texts)

    masker = shap.maskers.Text(WordTokenizer(), mask_token=token, collapse_mask_token=False)
    explainer = shap.explainers.Partition(f, masker, output_names=labels)
    result = explainer([text], max_evals=max(int(max_evals), 10), outputs=[c0], silent=True)
    return np.asarray(result.values[0], dtype=np.float64).reshape(-1)
