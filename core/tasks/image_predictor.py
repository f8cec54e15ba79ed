"""A trained image classifier reloaded from its model folder (``config.json``, ``labels.json``,
``model.safetensors``, optional ``hf_config/``), predicting on files, folders, zips, PIL images
or arrays through the same decode path training used (``core.datasets.image_transforms``)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from PIL import Image
from safetensors.torch import load_model
from torch import nn

from core.batch_eval import TRUTH_ATTR
from core.datasets.image_transforms import ImageProblem, Preprocess, decode_image, eval_tensor
from core.datasets.image_zip import is_zip, safe_extract
from core.datasets.images import LINK_REASON, display_names, input_files, masked
from core.errors import LoupeError
from core.models import image_models as im
from core.paths import loupe_home
from core.runtime import Runtime, inference_mode, inference_runtime
from core.tasks.base import Predictor

CONFIG_FILE = "config.json"
LABELS_FILE = "labels.json"
WEIGHTS_FILE = "model.safetensors"
WIDTH, HEIGHT = "width_px", "height_px"  # an image's size as stored, for error slices
CLASS_FOLDER = "class_folder"  # predict_file: the class sub-folder an image is in, when it names a class
HF_CONFIG_DIR = "hf_config"


def _unwrap(model: nn.Module) -> nn.Module:
    return im.unwrap(model)



class ImagePredictor(Predictor):
    """A trained image classifier: paths, PIL images or arrays in; one row per image out."""

    task = "image"

    def __init__(self, model: nn.Module, meta: dict[str, Any], runtime: Runtime) -> None:
        self.runtime = runtime
        self.model = _unwrap(model).to(runtime.device, memory_format=torch.channels_last).eval()
        self.meta = meta
        self.labels: list[str] = list(meta["labels"])
        self.prep = Preprocess.from_json(meta["preprocess"])
        self.short_side = meta.get("decode_short_side") or self.prep.resize_size

    @classmethod
    def from_artifact(cls, folder: Path, device: str = "auto") -> ImagePredictor:
        config_path, labels_path = folder / CONFIG_FILE, folder / LABELS_FILE
        if not config_path.is_file() or not labels_path.is_file():
            raise LoupeError(f"{folder} is not a Loupe image model (no {CONFIG_FILE}).",
                             "pick the model folder of a finished image run.")
        meta = json.loads(config_path.read_text())
        if meta.get("format") != "loupe-image":
            raise LoupeError(f"{folder} holds a {meta.get('task', 'different')} model, not an "
                             "image classifier.", "pick the model folder of an image run.")
        meta["labels"] = json.loads(labels_path.read_text())
        hf_dir = folder / meta["hf_config_dir"] if meta.get("hf_config_dir") else None
        model = im.rebuild(meta["architecture"], meta["labels"], hf_dir)
        load_model(model, str(folder / WEIGHTS_FILE), strict=True)
        return cls(model, meta, inference_runtime(device))

    def predict_proba(self, arrays: Sequence[np.ndarray], batch_size: int = 64) -> np.ndarray:
        """Class probabilities for decoded RGB arrays, in input order."""
        probs = np.zeros((len(arrays), len(self.labels)), dtype=np.float32)
        with inference_mode(self.runtime):
            for start in range(0, len(arrays), batch_size):
                chunk = arrays[start:start + batch_size]
                pixels = torch.stack([eval_tensor(a, self.prep) for a in chunk])
                pixels = self.runtime.to_device({"pixel_values": pixels})["pixel_values"]
                pixels = pixels.contiguous(memory_format=torch.channels_last)
                logits = self.model(pixels).float()
                probs[start:start + len(chunk)] = torch.softmax(logits, -1).cpu().numpy()
        return probs

    def predict(self, inputs: Any, batch_size: int = 64) -> pd.DataFrame:
        """Unreadable items get a row with no prediction and an ``error`` saying why."""
        items = _as_items(inputs)
        names = display_names(items)
        arrays, errors = [], []
        for item in items:
            if isinstance(item, (str, Path)) and Path(item).is_symlink():
                arrays.append(None)  # never followed, as at training (core.datasets.images)
                errors.append(LINK_REASON[Path(item).is_dir()])
                continue
            try:
                source = np.ascontiguousarray(item) if isinstance(item, np.ndarray) else item
                if isinstance(source, np.ndarray):
                    source = _array_image(source)
                arrays.append(decode_image(source, self.short_side))
                errors.append(None)
            except ImageProblem as exc:
                arrays.append(None)
                errors.append(str(exc))
        good = [i for i, a in enumerate(arrays) if a is not None]
        probs = np.full((len(items), len(self.labels)), np.nan, dtype=np.float32)
        if good:
            probs[good] = self.predict_proba([arrays[i] for i in good], batch_size)
        ok = np.zeros(len(items), dtype=bool)
        ok[good] = True
        best = np.where(ok, np.nan_to_num(probs).argmax(axis=1), -1)
        frame = pd.DataFrame({"image": names})
        frame["prediction"] = pd.Series([self.labels[b] if b >= 0 else None for b in best],
                                        dtype=object)
        frame["confidence"] = np.where(ok, np.nan_to_num(probs).max(axis=1), np.nan)
        for j, label in enumerate(self.labels):
            frame[f"p_{label}"] = probs[:, j]
        if any(errors):
            frame["error"] = errors
        return frame

    def load_inputs(self, path: Path) -> list[Path]:
        """An image file, a folder (searched recursively) or a zip (extracted safely).

        Symbolic links inside the folder are returned too but never followed: ``predict`` gives
        each a row with the reason, as training lists them as skipped."""
        return self._input_files(Path(path))[1]

    def predict_file(self, path: Path) -> pd.DataFrame:
        """Predictions for an image, a folder or a zip, each image named by its path relative to
        the folder (or the zip's top) the user gave: ``ants/0013035.jpg`` in a class-folder tree,
        so the true class stays next to the prediction."""
        root, files = self._input_files(Path(path))
        result = self.predict(files)
        relative = [f.relative_to(root) for f in files]
        result["image"] = [masked(r.as_posix()) for r in relative]
        folders = [r.parts[0] if len(r.parts) > 1 and r.parts[0] in self.labels else None for r in relative]
        result.attrs["prediction_columns"] = [c for c in result.columns if c != "image"]
        sizes = [(None, None) if f.is_symlink() else image_size(f) for f in files]  # links: not read
        result.insert(1, WIDTH, pd.array([s[0] for s in sizes], dtype="Int64"))
        result.insert(2, HEIGHT, pd.array([s[1] for s in sizes], dtype="Int64"))
        if any(folders):  # a class-folder tree: the folder is the true class (core.batch_eval)
            result.insert(1, CLASS_FOLDER, folders)
            result.attrs[TRUTH_ATTR] = CLASS_FOLDER
        return result

    def _input_files(self, path: Path) -> tuple[Path, list[Path]]:
        """(the folder the names are relative to, the files to predict)."""
        path = path.expanduser()
        if not path.exists():
            raise LoupeError(f"{path} does not exist.", "give an image, a folder or a zip.")
        if path.is_symlink():  # the path the user named is read; links inside it are not
            path = path.resolve()
        if path.is_file() and is_zip(path):
            path = safe_extract(path, loupe_home() / "inputs")
        if path.is_file():
            return path.parent, [path]
        files = sorted(p for p in input_files(path) if not _hidden(p, path))
        if not files:
            raise LoupeError(f"No images found in {path}.",
                             "add JPEG, PNG, WebP, BMP or GIF files.")
        return path, files


def image_size(path: str | Path) -> tuple[int | None, int | None]:
    """(width, height) in pixels from the file's header, without decoding it; (None, None) when
    it is not a readable image (the prediction's error column says why)."""
    try:
        with Image.open(path) as image:
            return image.size
    except (OSError, ValueError, Image.DecompressionBombError):
        return None, None


def _hidden(path: Path, root: Path) -> bool:
    return any(part.startswith((".", "__MACOSX")) for part in path.relative_to(root).parts)


def _array_image(array: np.ndarray) -> Image.Image:
    if array.dtype != np.uint8:
        array = np.clip(array, 0, 255).astype(np.uint8)
    return Image.fromarray(array)


def _as_items(inputs: Any) -> list[Any]:
    if isinstance(inputs, (str, Path, Image.Image, np.ndarray)):
        if isinstance(inputs, np.ndarray) and inputs.ndim == 4:
            return list(inputs)
        return [inputs]
    return list(inputs)
