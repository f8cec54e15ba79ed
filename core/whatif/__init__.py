"""What-if: edit an input and compare, counterfactuals, feature effect curves (``api``)."""

from core.whatif.api import (
    EditComparison,
    compare_edit,
    feature_effects,
    image_counterfactual,
    table_counterfactual,
    text_counterfactual,
)

__all__ = ["EditComparison", "compare_edit", "feature_effects", "image_counterfactual",
           "table_counterfactual",
           "text_counterfactual"]
