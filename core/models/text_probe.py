"""The linear-probe head start of a text classifier (stage one of LP-FT).

Kept apart from ``text_models`` (names, loading, batching): this is the one piece that fits
weights outside the training loop.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

from core.models.text_models import HEAD_PREFIXES


def head_linear(model: nn.Module) -> nn.Linear | None:
    """The last linear layer of the classification head (the one that outputs the logits), or
    None when the model's head is not one Loupe recognises."""
    model = getattr(model, "module", model)
    num_labels = int(getattr(getattr(model, "config", None), "num_labels", 0) or 0)
    found: nn.Linear | None = None
    for pname, module in model.named_modules():
        if (isinstance(module, nn.Linear) and pname.split(".")[0] in HEAD_PREFIXES
                and module.out_features == num_labels):
            found = module
    return found


def fit_probe_head(model: nn.Module, batches: Iterator[dict[str, torch.Tensor]] | Sequence[Any],
                   labels: np.ndarray, weight_decay: float = 1e-3) -> bool:
    """Stage one of LP-FT (Kumar et al., ICLR 2022) for text: fit the new head as an
    L2-regularised logistic regression (LBFGS) on the frozen encoder's features — exactly what the
    head reads (for BERT: the pooled [CLS] output) — then fine-tune from there.

    Why: a random head sends large, arbitrary gradients into the pretrained encoder during the
    first steps; starting from the probe, fine-tuning only has to improve on it, which is what
    makes small datasets work (benchmarks/text_quality_bench.py). False: no head found, nothing done."""
    head = head_linear(model)
    if head is None:
        return False  # an unknown head: train it from its random start, as before
    captured: list[torch.Tensor] = []
    hook = head.register_forward_hook(lambda _m, args, _out: captured.append(args[0].detach()))
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            for batch in batches:
                model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"])
    finally:
        hook.remove()
        model.train(was_training)
    feats = torch.cat(captured).float()
    targets = torch.as_tensor(np.asarray(labels), dtype=torch.long)
    weight = torch.zeros_like(head.weight, dtype=torch.float32, requires_grad=True)
    bias = torch.zeros(head.out_features, dtype=torch.float32, requires_grad=True)
    optimizer = torch.optim.LBFGS([weight, bias], lr=1.0, max_iter=200,
                                  line_search_fn="strong_wolfe")

    def closure() -> torch.Tensor:
        optimizer.zero_grad()
        logits = feats @ weight.T + bias
        loss = nn.functional.cross_entropy(logits, targets) + weight_decay * weight.pow(2).sum()
        loss.backward()
        return loss

    optimizer.step(closure)
    with torch.no_grad():
        head.weight.copy_(weight.to(head.weight.dtype))
        if head.bias is not None:
            head.bias.copy_(bias.to(head.bias.dtype))
    return True
