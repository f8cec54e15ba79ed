"""The report's "What-if comparisons" section: pinned comparisons (``core.whatif.pins``), each
as its title, the two predictions, what was changed, and the original and edited explanations
side by side. Everything that came from the data is masked, then escaped; the explanation
figures go through the report's own ``figure`` (which masks their strings too).
"""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from typing import Any

from core.output import html_text

CSS = """
.pair { display:grid; grid-template-columns:1fr 1fr; gap:14px; }
.pair > div { min-width:0; border:1px solid var(--line); border-radius:6px; padding:4px 10px; }
.changed { color:#b42318; font-weight:600; } .held { color:var(--muted); font-weight:600; }
"""


def _prediction(expl: Any) -> str:
    from core.output import mask_label

    pred = expl.prediction
    if "label" in pred:
        probs = pred.get("probabilities") or {}
        shown = ", ".join(f"{html.escape(mask_label(k))} {float(v):.1%}" for k, v in probs.items())
        conf = pred.get("confidence")
        head = html.escape(mask_label(pred["label"])) + (f" ({float(conf):.1%})" if conf is not None else "")
        return f"<p><b>{head}</b></p>" + (f"<p>{shown}</p>" if shown else "")
    return f"<p><b>{float(pred.get('value', float('nan'))):,.6g}</b></p>"


def comparisons_block(pins: Sequence[Any], figure: Callable[[Any], str]) -> str:
    """HTML for the pinned comparisons ('' when there are none)."""
    if not pins:
        return ""
    out = [f"<style>{CSS}</style>",
           "<p>Inputs edited on the Explain page and pinned: the model's prediction and its SHAP "
           "attributions before and after the edit.</p>"]
    for pin in pins:
        comparison = pin.comparison
        verdict = ('<span class="changed">the decision changed</span>' if comparison.changed()
                   else '<span class="held">the decision held</span>')
        if "label" not in comparison.original.prediction:
            verdict = ('<span class="changed">the prediction moved</span>' if comparison.changed()
                       else '<span class="held">the prediction held</span>')
        out.append(f"<h3>{html_text(pin.title)}</h3><p>{html_text(pin.headline())} · {verdict}</p>")
        if pin.changes:
            out.append("<p>Changes:</p><ul>" + "".join(f"<li>{html_text(c)}</li>" for c in pin.changes)
                       + "</ul>")
        sides = []
        for name, expl in (("Original", comparison.original), ("Edited", comparison.edited)):
            figures = expl.figures() if hasattr(expl, "figures") else {}
            shown = "".join(figure(f) for f in list(figures.values())[:2])
            sides.append(f"<div><h4>{name}</h4>{_prediction(expl)}{shown}</div>")
        out.append(f'<div class="pair">{"".join(sides)}</div>')
    return "".join(out)
