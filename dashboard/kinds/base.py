"""What a task kind shows in the dashboard: one ``KindView`` per kind.

Core (``core.tasks``) owns what a kind *is*: its data, model, metrics, samples and artifact. This
package owns how a kind *looks* on the pages, so core never imports streamlit and no page compares
kind names. Pages only ever call ``dashboard.kinds.view_for(run_or_task_kind)``.

Adding a kind's dashboard module
--------------------------------
Write ``dashboard/kinds/<kind>.py``, named after ``Task.kind`` (``multilabel_text.py`` for the
kind ``"multilabel_text"``), defining one module-level ``VIEW = KindView(...)``. Nothing else in
``dashboard/`` changes: ``view_for`` imports the module the first time the kind is asked for. A
kind whose name is not a Python identifier, or a view kept outside this package (a plugin, a
test), is registered with ``dashboard.kinds.register_view(kind, view)`` instead.

Every field is optional; what each one drives:

- ``upload_types``, ``upload_help`` (Data): the file types the uploader accepts and its help text.
- ``column_roles`` (Data): columns the user picks, each filling one ``DataConfig`` field
  (``ColumnRole``); ``auto=True`` adds "(auto-detect)", stored as None for core to detect.
- ``input_form`` (Predict "One input", Explain "Type or upload"): ``form(predictor, key,
  submit="Predict")`` draws the widgets (keys derived from ``key``) and returns one input in the
  form the kind's ``Predictor.predict`` takes (a dict row is passed as is, anything else in a
  one-item list), or None until submitted. It may raise ``LoupeError`` for bad input.
- ``input_image`` (Predict): True shows the input with ``st.image`` beside its prediction.
- ``batch_types`` (Predict "A file of inputs"): file types for ``Predictor.load_inputs``;
  ``upload_types`` when None.
- ``method_labels`` (Explain): a label per method name of ``core.explain``, where the kind's own
  wording beats the generic one ("SHAP token strip" rather than "SHAP").
- ``examples`` (Explain): ``examples(report) -> [(label, input)]`` from the run's report.json,
  worst first. An input may be a function of the run id, called only when that example is picked
  (for inputs that need the run's data).
- ``worst_labels`` (Explain): (the radio option offering the examples, the picker's label).
- ``edit_form`` (Explain "What-if"): ``edit_form(predictor, original, key, run_id) -> Edit | None`` draws
  an editor prefilled with ``original`` (an input as ``input_form`` or ``examples`` give it) and
  returns the edited input with the list of changes (for people; masked when shown), or None
  while nothing is edited yet. No editor: the what-if mode says so.
- ``counterfactual_form`` (Explain "What-if"): ``form(predictor, original, key) -> options``
  for the kind's counterfactual search (``Explainer.counterfactual``), or None while the search
  cannot run yet; no form: the search runs with its defaults.
- ``effect_curves`` (Explain "What-if"): True offers feature effect curves (ICE and partial
  dependence, ``core.whatif.feature_effects``) for the run's input columns.

Sample previews are data, not UI: the Data page shows ``Task.sample_frame(name)`` (core) when it is
not None.

The fallback
------------
A kind registered in core with no dashboard module gets ``FALLBACK`` (every default above): it
appears on every page, the uploader takes any table, text or zip file, no columns are asked for,
Predict offers batch files only (``Predictor.load_inputs``) and says there is no single-input form,
Explain lists the methods ``core.explain`` offers for it with generic labels and no examples.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Protocol

import pandas as pd

AUTO = "(auto-detect)"
TABLE_TYPES = ("csv", "tsv", "parquet", "pq", "jsonl", "ndjson")
ALL_UPLOAD_TYPES = (*TABLE_TYPES, "txt", "zip")


class InputForm(Protocol):
    """Draws one input's widgets; returns the input once submitted, else None."""

    def __call__(self, predictor: Any, key: str, submit: str = "Predict") -> Any | None: ...


@dataclass(frozen=True)
class ColumnRole:
    """A column the user chooses for a kind: which DataConfig field it fills and from which columns."""

    field: str
    label: str
    help: str
    options: Callable[[pd.DataFrame], list[str]]
    auto: bool = False  # offer AUTO (core detects it)


@dataclass(frozen=True)
class Edit:
    """An edited input and what changed (raw; the page masks each line before showing it)."""

    value: Any
    changes: list[str]
    changed_fields: tuple[str, ...] = ()  # table columns that changed, for highlighting
    highlight: str = ""  # Markdown, already masked and escaped: the input with its changes marked


class EditForm(Protocol):
    """Draws an editor for ``original``; returns the edit, or None while there is none."""

    def __call__(self, predictor: Any, original: Any, key: str, run_id: str = "") -> Edit | None: ...


def no_examples(report: dict[str, Any]) -> list[tuple[str, Any]]:
    return []


@dataclass(frozen=True)
class KindView:
    """Everything kind-specific the pages draw (see the module docstring for each field)."""

    upload_types: tuple[str, ...] = ALL_UPLOAD_TYPES
    upload_help: str | None = None
    column_roles: tuple[ColumnRole, ...] = ()
    input_form: InputForm | None = None
    input_image: bool = False
    batch_types: tuple[str, ...] | None = None
    method_labels: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    examples: Callable[[dict[str, Any]], list[tuple[str, Any]]] = no_examples
    worst_labels: tuple[str, str] = ("A misclassified example", "Example (most confidently wrong first)")
    edit_form: EditForm | None = None
    effect_curves: bool = False
    counterfactual_form: Callable[[Any, Any, str], dict[str, Any] | None] | None = None

    @property
    def batch_upload_types(self) -> list[str]:
        return list(self.batch_types if self.batch_types is not None else self.upload_types)


FALLBACK = KindView()
