"""EfficientNet-Lite0 fine-tuning keeps its stem and first blocks at the ImageNet weights
(``EARLY_BLOCKS``, issue 17): those layers get no gradients and no BatchNorm updates, the rest
trains as before, and a frozen backbone or a network trained from scratch is unchanged."""

from __future__ import annotations

import torch

from core.models import image_models as im
from core.models.efficientnet_lite import EARLY_BLOCKS, EfficientNetLite0

LABELS = ["cats", "dogs"]


def _early_names(model: EfficientNetLite0) -> set[str]:
    prefixes = ("_conv_stem.", "_bn0.", *(f"_blocks.{i}." for i in range(EARLY_BLOCKS)))
    return {name for name, _ in model.named_parameters() if name.startswith(prefixes)}


def test_pretrained_fine_tuning_freezes_only_the_early_layers() -> None:
    model = im.build(im.resolve(im.LITE0), LABELS, pretrained=True)
    early = _early_names(model)
    assert early
    frozen = {name for name, p in model.named_parameters() if not p.requires_grad}
    assert frozen == early
    model.train()
    assert not model._bn0.training and not model._blocks[EARLY_BLOCKS - 1]._bn1.training
    assert model._blocks[EARLY_BLOCKS]._bn1.training and model._bn1.training


def test_a_training_step_changes_the_later_layers_and_leaves_the_early_ones_exactly() -> None:
    torch.manual_seed(0)
    model = EfficientNetLite0(2)
    model.freeze_early_layers()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-2)
    model.train()
    loss = torch.nn.functional.cross_entropy(model(torch.randn(4, 3, 64, 64)), torch.tensor([0, 1, 0, 1]))
    loss.backward()
    optimizer.step()
    after = model.state_dict()
    early = tuple(f"_blocks.{i}." for i in range(EARLY_BLOCKS)) + ("_conv_stem.", "_bn0.")
    for key, value in after.items():
        if key.startswith(early):  # weights and BatchNorm running statistics alike
            assert torch.equal(value, before[key]), key
    assert not torch.equal(after["_blocks.3._project_conv.weight"], before["_blocks.3._project_conv.weight"])
    assert not torch.equal(after["_blocks.3._bn2.running_mean"], before["_blocks.3._bn2.running_mean"])


def test_frozen_backbone_and_from_scratch_keep_their_behaviour() -> None:
    spec = im.resolve(im.LITE0)
    head_only = im.build(spec, LABELS, pretrained=True, freeze_backbone=True)
    assert {n for n, p in head_only.named_parameters() if p.requires_grad} == {"_fc.weight", "_fc.bias"}
    scratch = im.build(spec, LABELS, pretrained=False)
    assert all(p.requires_grad for p in scratch.parameters())
    scratch.train()
    assert scratch._bn0.training
