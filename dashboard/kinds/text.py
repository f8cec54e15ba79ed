"""Text classification on the pages: text and label columns, a text box, misclassified texts."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from core.errors import LoupeError
from dashboard.kinds.base import TABLE_TYPES, ColumnRole, Edit, KindView


def _all_columns(frame: pd.DataFrame) -> list[str]:
    return [str(c) for c in frame.columns]


def text_form(predictor: Any, key: str, submit: str = "Predict") -> str | None:
    with st.form(f"text_{key}"):
        text = st.text_area("Text", height=120, key=f"{key}_text",
                            placeholder="Type or paste a review, e.g. 'Great value, works perfectly.'")
        submitted = st.form_submit_button(submit, type="primary")
    if not submitted:
        return None
    if not text.strip():
        raise LoupeError("The text is empty.", "type some text to classify.")
    return text


def text_edit_form(predictor: Any, original: str, key: str, run_id: str = "") -> Edit | None:
    """A text box prefilled with the original; the edit is the box's text when it differs."""
    from core.whatif.pins import text_changes

    edited = st.text_area("Edited text", value=str(original), height=140, key=f"{key}_edit_text",
                          help="Change, add or remove words; the comparison shows both sides.")
    if not edited.strip():
        raise LoupeError("The edited text is empty.", "type some text to compare.")
    if edited == original:
        return None
    return Edit(edited, text_changes(str(original), edited), highlight=marked_texts(str(original), edited))


def marked_texts(original: str, edited: str) -> str:
    """Both texts as Markdown, masked first (names are found in context), then diffed by word:
    removed words red and struck through in the original, added words green in the edited."""
    import difflib

    from core.output import mask_message, md

    a, b = mask_message(original).split(), mask_message(edited).split()
    left, right = [], []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        before, after = md(" ".join(a[i1:i2]), mask=False), md(" ".join(b[j1:j2]), mask=False)
        if op == "equal":
            left.append(before)
            right.append(after)
            continue
        if before:
            left.append(f":red-background[~~{before}~~]")
        if after:
            right.append(f":green-background[{after}]")
    return f"**Original:** {' '.join(left)}\n\n**Edited:** {' '.join(right)}"


def text_counterfactual_form(predictor: Any, original: str, key: str) -> dict[str, Any]:
    """How the text search edits words: removes them, or replaces them by the mask token."""
    edit = st.radio("Edit words by", ["remove", "mask"], horizontal=True, key=f"{key}_edit",
                    format_func={"remove": "removing them",
                                 "mask": "replacing them by the mask token"}.get)
    return {"edit": edit}


def _text_examples(report: dict[str, Any]) -> list[tuple[str, Any]]:
    out = []
    for e in report.get("worst_val_examples") or []:
        text = str(e.get("text", ""))
        short = text if len(text) <= 70 else text[:67] + "…"
        label = f"true {e.get('true')} → {e.get('predicted')} ({e.get('confidence', 0):.0%}): {short}"
        out.append((label, text))
    return out


VIEW = KindView(
    upload_types=(*TABLE_TYPES, "txt"),
    upload_help="A table with a text column and a label column (CSV, TSV, Parquet, JSONL), or a .txt file.",
    column_roles=(ColumnRole("text_column", "Text column", "The column holding the texts.",
                             _all_columns, True),
                  ColumnRole("label_column", "Label column", "The column holding each text's class.",
                             _all_columns, True)),
    input_form=text_form,
    method_labels={"shap": "SHAP token strip"},
    examples=_text_examples,
    edit_form=text_edit_form,
    counterfactual_form=text_counterfactual_form,
)
