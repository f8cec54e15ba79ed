"""Explanations of tabular runs: SHAP for one row and global importance (``shap_tabular``)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from core.errors import LoupeError
from core.explain import shap_tabular, shap_trees
from core.explain.base import Explainer, Job, check_params, json_row, jsonable
from core.explain.result import Explanation


class TabularExplainer(Explainer):
    methods = ("shap", "shap_global")
    global_methods = ("shap_global",)
    input_hint = ("pass a row (a dict or one-row DataFrame; on the command line --input with a JSON "
                  "object of column values, or a table file with --row N), or --method global.")

    def explain(self, job: Job, input: Any, method: str, target_class: Any,
                params: dict[str, Any]) -> Explanation:
        if method == "shap_global":
            return _global(job, params)
        from core.privacy import mask_frame

        frame = shap_tabular.row_frame(input, _input_columns(job))
        opts = check_params(params, {"background": shap_tabular.DEFAULT_BACKGROUND, "algorithm": "auto",
                                     "max_evals": shap_tabular.DEFAULT_MAX_EVALS, "seed": 0},
                            "table SHAP")
        masked = json.dumps(mask_frame(frame).iloc[0].map(jsonable).to_dict(), default=str)

        def compute() -> Explanation:
            predictor = job.predictor()
            if getattr(predictor, "tree", None) is not None:  # exact TreeSHAP, no background
                return shap_trees.explain_row_tree(predictor, frame, job.run_id)
            result = shap_tabular.explain_row(predictor, frame, _background(job), job.run_id,
                                              opts["background"], opts["algorithm"], opts["max_evals"],
                                              opts["seed"], job.progress)
            if not job.has_run_data:
                result.notices.append(REFERENCE_NOTICE)
            return result

        return job.cached("shap", shap_tabular.row_bytes(frame), opts, masked, compute)

    def cli_params(self, method: str) -> tuple[str, ...]:
        keys = ("background", "algorithm", "max_evals")
        return keys + ("rows", "split") if method in self.global_methods else keys

    def cli_input(self, value: str, is_file: bool, read_file: Callable[[], Any]) -> Any:
        if value.lstrip().startswith("{"):
            return json_row(value)
        if not is_file:
            from core.output import mask_message

            raise LoupeError(f"--input {mask_message(repr(value))} is neither a file nor a JSON row.",
                             "give a table file with --row N, or a JSON object of column values.")
        return read_file()

    def pick_input(self, inputs: Any, row: int) -> Any:
        return inputs.iloc[[row]]

    def edited_input(self, original: Any, edited: Any, changes: list[str], columns: Any) -> Any:
        from core.output import mask_message

        if not changes:
            raise LoupeError("Nothing was edited.", "change a column with --set COL=VALUE.")
        row = shap_tabular.row_frame(original, columns()).copy()
        for item in changes:
            column, sep, value = item.partition("=")
            if not sep or not column:
                raise LoupeError(f"--set {mask_message(item)} is not COL=VALUE.",
                                 "write e.g. --set sqft=1400.")
            if column not in row.columns:
                raise LoupeError(f"--set names column {mask_message(repr(column))}, which the model "
                                 "does not read.", f"use one of: {', '.join(map(str, row.columns))}.")
            row[column] = row[column].astype(object)
            row.iloc[0, row.columns.get_loc(column)] = _number_or_text(value)
        return row

    def counterfactual(self, run_id: str, input: Any, store: Any, options: dict[str, Any]) -> Any:
        from core.whatif import table_counterfactual

        if options.get("target") is None:
            raise LoupeError("A table counterfactual needs the value to reach.", "add --target VALUE.")
        return table_counterfactual(run_id, input, options["target"], options.get("direction"),
                                    options.get("editable"), store)

    def figures(self, expl: Explanation, top: int = 3, **options: Any) -> dict[str, Any]:
        from core.explain import figures as f

        if expl.method == "shap_global":
            importance = expl.frames["importance"]
            figs = {"importance": f.importance_bar(importance)}
            for feature in importance["feature"].head(top):
                figs[f"dependence_{feature}"] = f.dependence_scatter(expl.frames["dependence"], feature)
            return figs
        local = expl.frames["local"]
        return {"waterfall": f.waterfall(local["feature"], local["shap"], float(expl.base_value),
                                         float(expl.prediction["value"]),
                                         local["value"].astype(str).tolist())}

    def total(self, expl: Explanation) -> np.ndarray:
        if expl.values is None:
            return np.zeros(0)
        if expl.method == "shap_global":  # one total per explained row
            return expl.values.sum(axis=1)
        return np.asarray(expl.values.sum())  # one output (regression): one total


def _global(job: Job, params: dict[str, Any]) -> Explanation:
    opts = check_params(params, {"rows": shap_tabular.GLOBAL_ROWS, "split": "test", "background": 50,
                                 "algorithm": "auto", "max_evals": shap_tabular.DEFAULT_MAX_EVALS,
                                 "seed": 0}, "global SHAP")
    label = f"global: up to {opts['rows']} rows of the {opts['split']} split"

    def compute() -> Explanation:
        predictor = job.predictor()
        split = _background(job, opts["split"])
        rows = split.sample(n=min(int(opts["rows"]), len(split)), random_state=int(opts["seed"]))
        if getattr(predictor, "tree", None) is not None:
            return shap_trees.explain_global_tree(predictor, rows, job.run_id)
        return shap_tabular.explain_global(
            predictor, rows, _background(job), job.run_id, opts["background"], opts["algorithm"],
            opts["max_evals"], opts["seed"], job.progress)

    return job.cached("shap_global", label, opts, label, compute)


def _background(job: Job, split: str = "train") -> pd.DataFrame:
    if not job.has_run_data:
        return _reference_row(job, split)
    if job.progress is not None:
        job.progress(0.0, f"loading the run's {split} rows")
    try:
        frame = shap_tabular.raw_split(job.store, job.run_id, split)
    except LoupeError as exc:
        raise LoupeError(f"SHAP for tables needs the run's data ({split} rows), and it could not "
                         f"be read: {exc.problem}", exc.fix) from exc
    missing = [c for c in _input_columns(job) if c not in frame.columns]
    if missing:
        source = job.store.config(job.run_id).data.source
        raise LoupeError(f"The run's data file {source} has changed since training: column "
                         f"{missing[0]!r} is gone ({len(missing)} missing in all).",
                         "restore the file the run was trained on, or train a new run on this one.")
    return frame


REFERENCE_NOTICE = ("The model folder carries no training rows, so the SHAP background is one "
                    "reference row: the training medians of the numeric columns and the most "
                    "frequent category of the others.")


def _reference_row(job: Job, split: str) -> pd.DataFrame:
    """A model folder without its run's data: one reference row (training medians and modes)
    for a local explanation's background; global importance needs rows, so it says so."""
    from core.tasks.tabular import PREPROCESSING_FILE, read_preprocessor

    if split != "train" or not (job.artifact_dir() / PREPROCESSING_FILE).is_file():
        raise LoupeError("Global importance needs the run's rows, and a model folder on its own "
                         "carries none.", "explain single rows here, or explain the run in the Loupe "
                         "history it was trained in (loupe explain RUN --method global).")
    prep = read_preprocessor(job.artifact_dir())
    row = {**{c: prep.medians[c] for c in prep.numeric}, **{c: prep.fills[c] for c in prep.categorical}}
    return pd.DataFrame([row])[prep.input_columns]


def _input_columns(job: Job) -> list[str]:
    """The run's feature columns, read from its artifact (no model load)."""
    from core.tasks.tabular import PREPROCESSING_FILE, read_preprocessor

    folder = job.artifact_dir()
    if (folder / PREPROCESSING_FILE).is_file():
        return read_preprocessor(folder).input_columns
    return list(job.predictor().input_columns)


def _number_or_text(value: str) -> Any:
    try:
        return float(value)
    except ValueError:
        return value
