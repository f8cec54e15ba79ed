"""Hostile run configs through `loupe train --config FILE`: unknown keys, wrong types, a JSON value
that is not an object, broken JSON, and values of the right type but out of range.

Documented outcome: exit status 2, one message naming the setting (``config.train.epochs``) and
the fix (a close valid name, or the expected type), no run row, nothing under LOUPE_HOME.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.hostile.conftest import assert_cli_error, assert_nothing_written, cli

SAMPLE = {"data": {"source": "sample:diabetes"}}


def _config(tmp_path: Path, content: object) -> str:
    path = tmp_path / "config.json"
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    return str(path)


def test_unknown_key_subprocess(tmp_path: Path) -> None:
    """The real `loupe` process: a typo'd key is exit status 2 with the key and a way out (the
    in-process cases below cover the other shapes without a process start each)."""
    home = tmp_path / "home"
    typo = _config(tmp_path, {**SAMPLE, "train": {"epochs": "ten", "learning_rate": 0.1}})
    assert_cli_error(cli(home, "train", "tabular", "--config", typo),
                     "Unknown setting 'config.train.learning_rate'", "remove it or")
    assert_nothing_written(home)


BAD_CONFIGS = {
    "unknown top-level key": ({**SAMPLE, "trian": {}}, ["Unknown setting 'config.trian'", "'train'"]),
    "unknown nested key": ({"data": {"source": "sample:diabetes", "traget": "age"}},
                           ["'config.data.traget'", "'target'"]),
    "string for a number": ({**SAMPLE, "train": {"lr": "fast"}}, ["'config.train.lr' must be a number"]),
    "string for a whole number": ({**SAMPLE, "train": {"epochs": "ten"}},
                                  ["'config.train.epochs' must be a whole number", "'ten'"]),
    "bool for a number": ({**SAMPLE, "train": {"batch_size": True}}, ["'config.train.batch_size'"]),
    "number for a bool": ({**SAMPLE, "model": {"pretrained": 1}}, ["'config.model.pretrained'",
                                                                  "true or false"]),
    "string for a list": ({**SAMPLE, "tags": "nightly"}, ["'config.tags' must be a list"]),
    "list of the wrong items": ({**SAMPLE, "model": {"hidden_sizes": ["wide"]}},
                                ["'config.model.hidden_sizes[0]' must be a whole number"]),
    "null for text": ({**SAMPLE, "model": {"name": None}}, ["'config.model.name' must be text"]),
    "a JSON list": ([1, 2, 3], ["config.json", "not an object"]),
    "a JSON string": ('"train fast"', ["config.json", "not an object"]),
    "broken JSON": ('{"train": {"epochs": 2,}}', ["config.json", "not valid JSON", "line 1"]),
    "unknown task in the file": ({**SAMPLE, "task": "audio"}, ["Unknown task kind 'audio'"]),
}


@pytest.mark.parametrize("case", list(BAD_CONFIGS))
def test_bad_config(case: str, tmp_path: Path, loupe_home: Path, run_cli) -> None:
    content, words = BAD_CONFIGS[case]
    code, err = run_cli("train", "tabular", "--config", _config(tmp_path, content))
    assert code == 2, err
    assert err.startswith("error:"), err
    for word in [*words, "Fix:"]:
        assert word in err, f"{word!r} not in {err}"
    assert_nothing_written(loupe_home)


def test_section_of_the_wrong_type_says_how_to_fix_it(tmp_path: Path, run_cli) -> None:
    code, err = run_cli("train", "tabular", "--config", _config(tmp_path, {**SAMPLE, "train": [1, 2]}))
    assert code == 2 and "'config.train' must be an object" in err
    assert "Fix:" in err, err


OUT_OF_RANGE = {
    "epochs 0": {"train": {"epochs": 0}},
    "negative epochs": {"train": {"epochs": -5}},
    "batch size 0": {"train": {"batch_size": 0}},
    "negative learning rate": {"train": {"lr": -1.0}},
    "val+test fractions over 1": {"data": {"source": "sample:diabetes", "val_fraction": 0.7,
                                           "test_fraction": 0.6}},
    "negative layer width": {"model": {"hidden_sizes": [-3]}},
    "grad_accum 0": {"train": {"grad_accum": 0}},
}

WORDS = {
    "epochs 0": "'config.train.epochs' must be at least 1, got 0",
    "negative epochs": "'config.train.epochs' must be at least 1, got -5",
    "batch size 0": "'config.train.batch_size' must be at least 1",
    "negative learning rate": "'config.train.lr' must be above 0",
    "val+test fractions over 1": "val_fraction + test_fraction below 0.9",
    "negative layer width": "'config.model.hidden_sizes[0]' must be at least 1",
    "grad_accum 0": "'config.train.grad_accum' must be at least 1",
}


@pytest.mark.parametrize("case", list(OUT_OF_RANGE))
def test_out_of_range_values_are_refused_before_a_run(case: str, tmp_path: Path, loupe_home: Path,
                                                      run_cli) -> None:
    content = {"data": {"source": "sample:diabetes"}, **OUT_OF_RANGE[case]}
    content["data"] = {"source": "sample:diabetes", **content["data"]}
    code, err = run_cli("train", "tabular", "--config", _config(tmp_path, content), "--max-steps", "1")
    assert code == 2 and "Fix:" in err, err
    assert WORDS[case] in err, err
    assert_nothing_written(loupe_home)
