"""The one result type every explainer returns, and its JSON form for the cache.

Why one type: the CLI, the dashboard and the cache handle text, image and table explanations
alike — print a frame, draw figures, store JSON — without asking which kind they hold. What
differs per kind lives in ``values``/``arrays``/``frames`` with documented shapes (and the kind's
``Explainer`` draws the figures and sums the attributions):

- text SHAP: ``values`` (tokens, classes), ``tokens``, ``base_value`` (classes,)
- image SHAP: ``values`` (regions, classes), one per superpixel of ``arrays["segments"]`` (H, W
  region ids over the model's crop ``arrays["image"]`` (H, W, 3 uint8)); ``arrays["photo"]`` is
  the whole decoded photo and ``info["crop_box"]`` where the crop lies in it
- tabular SHAP: ``values`` (columns,), ``features``, ``frames["local"]``
- tabular global: ``values`` (rows, columns), ``frames["importance"]``, ``frames["dependence"]``
- attention: ``arrays["attentions"]`` (layers, heads, T, T), ``arrays["rollout"]`` (T, T),
  ``frames["heads"]``, ``tokens``

Everything stored is already masked (tokens through ``mask_tokens``, table values through
``mask_frame``); raw images are never serialised (``transient`` arrays are left out).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

TRANSIENT_ARRAYS = ("image", "photo", "segments")  # re-derived from the input on a cache hit
FORMAT_VERSION = 1


@dataclass
class Explanation:
    run_id: str
    kind: str  # the run's task kind (text | image | tabular | any registered kind)
    method: str  # one of the kind's explainer's methods (shap | shap_global | attention | ...)
    params: dict[str, Any] = field(default_factory=dict)
    values: np.ndarray | None = None
    base_value: Any = None  # float (regression) or array (one per explained class)
    prediction: dict[str, Any] = field(default_factory=dict)
    labels: list[str] = field(default_factory=list)  # names of the explained outputs
    target_classes: list[int] = field(default_factory=list)
    tokens: list[str] | None = None
    features: list[str] | None = None
    arrays: dict[str, np.ndarray] = field(default_factory=dict)
    frames: dict[str, pd.DataFrame] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)  # explainer name, evals, background size
    notices: list[str] = field(default_factory=list)
    input_label: str = ""  # masked short description of the input (file name, masked text)
    seconds: float = 0.0
    from_cache: bool = False

    # --- views ----------------------------------------------------------------------------
    def frame(self) -> pd.DataFrame:
        """The main tidy table of this explanation (tokens, features or heads with values)."""
        for name in ("tokens", "local", "importance", "heads", "regions"):
            if name in self.frames:
                return self.frames[name]
        return pd.DataFrame()

    def total(self) -> np.ndarray:
        """Sum of attributions per explained output (additivity: equals f(x) - base value);
        how ``values`` are laid out is the kind's explainer's to say."""
        from core.explain.api import explainer_for

        return explainer_for(self.kind).total(self)

    def figures(self, **options: Any) -> dict[str, Any]:
        """Plotly figures for this explanation, by name (see ``core.explain.figures``)."""
        from core.explain.figures import explanation_figures

        return explanation_figures(self, **options)

    def to_html(self, path: str, title: str | None = None, force: bool = False, **options: Any) -> str:
        """Write the figures to one HTML page (masked, escaped; an existing file only with force)."""
        from core.explain.figures import figures_to_html

        figs = list(self.figures(**options).values())
        return figures_to_html(figs, path, title or f"Loupe explanation — run {self.run_id}", force)

    def masked(self) -> Explanation:
        """A copy as it may leave the process (the cache in DuckDB, files, screens): class labels,
        feature names, the prediction, notices and text cells through the output boundary
        (labels with the keyed hash, so two labels stay two); numbers and arrays untouched."""
        from dataclasses import replace

        from core.output import mask_data, mask_label, mask_message, mask_table
        from core.output.masking import LABEL_COLUMNS

        prediction = mask_data(self.prediction)
        for key in ("label", "target"):
            if isinstance(self.prediction.get(key), str):
                prediction[key] = mask_label(self.prediction[key])
        return replace(
            self, labels=[mask_label(x) for x in self.labels], prediction=prediction,
            features=None if self.features is None else [mask_label(f) for f in self.features],
            frames={k: mask_table(v, (*LABEL_COLUMNS, "feature")) for k, v in self.frames.items()},
            info=mask_data(self.info), notices=[mask_message(n) for n in self.notices],
            input_label=mask_message(self.input_label))

    # --- JSON -----------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT_VERSION,
            "run_id": self.run_id, "kind": self.kind, "method": self.method,
            "params": self.params,
            "values": encode_array(self.values),
            "base_value": encode_value(self.base_value),
            "prediction": _plain(self.prediction),
            "labels": list(self.labels), "target_classes": [int(c) for c in self.target_classes],
            "tokens": self.tokens, "features": self.features,
            "arrays": {k: encode_array(v, self.info.get("decimals", {}).get(k))
                       for k, v in self.arrays.items() if k not in TRANSIENT_ARRAYS},
            "frames": {k: json.loads(v.to_json(orient="split", index=False, double_precision=15))
                       for k, v in self.frames.items()},
            "info": _plain(self.info), "notices": list(self.notices),
            "input_label": self.input_label, "seconds": float(self.seconds),
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), separators=(",", ":"), allow_nan=False)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Explanation:
        frames = {k: pd.DataFrame(v["data"], columns=v["columns"]) for k, v in raw["frames"].items()}
        return cls(
            run_id=raw["run_id"], kind=raw["kind"], method=raw["method"], params=raw["params"],
            values=decode_array(raw["values"]), base_value=decode_value(raw["base_value"]),
            prediction=raw["prediction"], labels=raw["labels"],
            target_classes=raw["target_classes"], tokens=raw["tokens"], features=raw["features"],
            arrays={k: decode_array(v) for k, v in raw["arrays"].items()}, frames=frames,
            info=raw["info"], notices=raw["notices"], input_label=raw["input_label"],
            seconds=raw["seconds"],
        )

    @classmethod
    def from_json(cls, text: str) -> Explanation:
        return cls.from_dict(json.loads(text))


# --- array codec: {"shape", "dtype", "data": nested lists}; NaN/inf as null -------------------
def encode_array(array: np.ndarray | None, decimals: int | None = None) -> dict[str, Any] | None:
    if array is None:
        return None
    arr = np.asarray(array)
    flat = arr.reshape(-1)
    if arr.dtype.kind == "f":
        wide = flat.astype(np.float64)
        if decimals is not None:
            wide = np.round(wide, decimals)
        data: list[Any] = [None if not math.isfinite(v) else v for v in wide.tolist()]
    else:
        data = flat.tolist()
    return {"shape": list(arr.shape), "dtype": arr.dtype.str, "data": data}


def decode_array(raw: dict[str, Any] | None) -> np.ndarray | None:
    if raw is None:
        return None
    dtype = np.dtype(raw["dtype"])
    data = raw["data"]
    if dtype.kind == "f":
        data = [np.nan if v is None else v for v in data]
    return np.asarray(data, dtype=dtype).reshape(raw["shape"])


def encode_value(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return {"array": encode_array(value)}
    return _plain(value)


def decode_value(value: Any) -> Any:
    if isinstance(value, dict) and "array" in value:
        return decode_array(value["array"])
    return value


def _plain(value: Any) -> Any:
    """Numpy scalars/arrays to JSON-able Python values (NaN becomes None)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return _plain(value.tolist())
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
