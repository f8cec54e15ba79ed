"""What-if: edit an input and compare, counterfactuals, feature effect curves (``api``), and
comparisons pinned in the store (``pins``)."""

from core.whatif.api import (
    EditComparison,
    compare_edit,
    feature_effects,
    image_counterfactual,
    table_counterfactual,
    text_counterfactual,
)
from core.whatif.pins import PinnedComparison, pin_comparison, pinned_comparisons, unpin

__all__ = ["EditComparison", "PinnedComparison", "compare_edit", "feature_effects",
           "image_counterfactual", "pin_comparison", "pinned_comparisons", "table_counterfactual",
           "text_counterfactual", "unpin"]
