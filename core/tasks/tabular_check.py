"""A table's examples for the data check (``core.datacheck``): the encoded columns (what the
network reads) for the out-of-fold model, raw numeric columns for outliers, and a hash of the
feature values (the target aside) as the exact-duplicate key. Rows are the table's 1-based data
rows (``PreparedData.refs``)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from core.datacheck.inputs import SPLITS, CheckInputs, row_previews
from core.datasets.tabular_prep import Preprocessor


def check_inputs(data: Any) -> CheckInputs:
    prep = Preprocessor.from_dict(data.meta["preprocessing"])
    parts = [(split, data.raw[split]) for split in SPLITS]
    frame = pd.concat([f for _, f in parts], ignore_index=True)
    inputs = frame.drop(columns=[prep.target])
    preview = row_previews(inputs[prep.input_columns])
    keys = pd.util.hash_pandas_object(inputs[prep.input_columns].astype(str), index=False)
    table = pd.DataFrame({"split": [s for s, f in parts for _ in range(len(f))],
                          "row": [f"row {r}" for split, _ in parts for r in data.refs[split]],
                          "preview": preview, "key": keys.astype(str).to_numpy()})
    return CheckInputs(table, prep.transform(frame).astype(np.float32),
                       "the encoded columns (standardised numbers, one-hot categories)",
                       targets=frame[prep.target].to_numpy(dtype=float), target_name=prep.target,
                       numeric=frame[prep.numeric], near_duplicates=False)
