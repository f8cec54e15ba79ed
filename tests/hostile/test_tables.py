"""Hostile tables for the tabular and text kinds: encodings, ragged rows, empty files, one class,
NaN/inf targets, duplicated columns, pickles in disguise, a million rows and a 100k-character text.

Documented outcomes (docs/security.md, "Inputs"):
- UTF-8 (with or without BOM) and UTF-16 with a BOM are read; any other encoding is an error that
  names the line of the first undecodable byte and the fix (``--encoding latin-1`` on the CLI,
  ``data.encoding`` in a config), and the same file trains once the encoding is given;
- a file Loupe cannot use is one LoupeError naming the file, the line/row or column, and the fix;
  no run row is created and nothing is written under LOUPE_HOME;
- rows with an empty, NaN or infinite regression target are dropped with a notice; a target with
  no usable value at all is an error;
- a table over 200,000 rows trains on a seeded random sample of 200,000 with a notice;
- a text longer than the model's max_length is truncated with a notice.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from core.config import RunConfig
from core.errors import LoupeError
from core.train import train
from tests.hostile.conftest import (
    assert_clear,
    assert_cli_error,
    assert_nothing_written,
    cli,
    marker_pickle,
)

ROWS = "".join(f"{i},{i % 7},{2 * i + 1}\n" for i in range(40))  # 40 good rows: a,b,y


def _write(tmp_path: Path, name: str, data: bytes | str) -> Path:
    path = tmp_path / name
    path.write_bytes(data if isinstance(data, bytes) else data.encode())
    return path


def _latin1() -> bytes:
    text = "city,n,y\nBern,1,2\nBasel,2,3\nGenf,3,4\nZürich,4,5\n" + "Chur,5,6\nSion,6,7\n" * 15
    return text.encode("latin-1")


def _tabular_bad(marker: Path) -> dict[str, tuple[str, bytes | str, list[str]]]:
    """case -> (file name, content, words the error must contain)."""
    return {
        "latin-1 csv": ("cities.csv", _latin1(), ["cities.csv", "not valid UTF-8", "line 5",
                                                  "--encoding latin-1"]),
        "ragged csv": ("ragged.csv", "a,b,y\n1,2,3\n4,5,6\n7,8,9,10,11\n" + ROWS,
                       ["ragged.csv", "different numbers of fields", "line 4"]),
        "empty file": ("empty.csv", b"", ["empty.csv", "empty"]),
        "whitespace only": ("blank.csv", "\n \n\t\n", ["blank.csv", "empty"]),
        "header only": ("header.csv", "a,b,y\n", ["header.csv", "no data rows"]),
        "duplicated column names": ("dupes.csv", "a,b,a,y\n" + "1,2,3,4\n" * 30,
                                    ["dupes.csv", "'a' appears more than once", "rename"]),
        "all targets NaN or inf": ("nan.csv", "a,y\n" + "1,nan\n2,inf\n3,-inf\n4,\n" * 8,
                                   ["nan.csv", "'y'", "no usable values"]),
        "pickle named .csv": ("model.csv", marker_pickle(marker), ["model.csv", "not valid UTF-8"]),
        "pickle named .pkl": ("model.pkl", marker_pickle(marker), ["model.pkl", "unsupported file type"]),
        "garbage named .parquet": ("data.parquet", np.random.default_rng(0).bytes(4096),
                                   ["data.parquet", "not a readable Parquet file"]),
    }


CASES = list(_tabular_bad(Path("unused")))


@pytest.mark.parametrize("case", CASES)
def test_bad_table_core_api(case: str, tmp_path: Path, loupe_home: Path, marker: Path) -> None:
    name, content, words = _tabular_bad(marker)[case]
    path = _write(tmp_path, name, content)
    cfg = RunConfig(task="tabular").replace(data={"source": str(path), "target": "y"},
                                            train={"epochs": 1, "max_steps": 1})
    with pytest.raises(LoupeError) as err:
        train(cfg)
    assert_clear(str(err.value), *words)
    assert_nothing_written(loupe_home)


@pytest.mark.parametrize("case", CASES)
def test_bad_table_cli(case: str, tmp_path: Path, loupe_home: Path, marker: Path, run_cli) -> None:
    name, content, words = _tabular_bad(marker)[case]
    path = _write(tmp_path, name, content)
    code, err = run_cli("train", "tabular", "--data", str(path), "--target", "y", "--max-steps", "1")
    assert code == 2, err
    assert err.startswith("error:")
    assert_clear(err, *words)
    assert_nothing_written(loupe_home)


def test_latin1_errors_then_trains_with_encoding(tmp_path: Path, loupe_home: Path, run_cli) -> None:
    """The real `loupe` process exits 2 naming the line and the flag; then (in-process, to spare a
    second process start) the same command with the flag trains."""
    home = tmp_path / "home"
    path = _write(tmp_path, "cities.csv", _latin1())
    args = ("train", "tabular", "--data", str(path), "--target", "y", "--epochs", "1",
            "--max-steps", "1", "--json")
    refused = cli(home, *args)
    assert_cli_error(refused, "line 5", "--encoding latin-1")
    assert_nothing_written(home)
    code, err = run_cli(*args, "--encoding", "latin-1")
    assert code == 0, err
    assert json.loads(run_cli.stdout)["status"] == "completed"


def test_utf16_with_bom_is_read(tmp_path: Path, run_cli) -> None:
    path = _write(tmp_path, "utf16.csv", ("a,b,y\n" + ROWS).encode("utf-16"))
    code, err = run_cli("train", "tabular", "--data", str(path), "--target", "y", "--epochs", "1",
                        "--max-steps", "1", "--quiet")
    assert code == 0, err


def test_utf16_without_bom_is_a_clear_error(tmp_path: Path, loupe_home: Path) -> None:
    path = _write(tmp_path, "utf16le.csv", ("a,b,y\n" + ROWS).encode("utf-16-le"))
    cfg = RunConfig(task="tabular").replace(data={"source": str(path), "target": "y"})
    with pytest.raises(LoupeError) as err:
        train(cfg)
    # Without a BOM the bytes decode as UTF-8 full of NULs: named as such, on every Python
    # (3.10's csv module used to stop with a bare "line contains NUL").
    assert_clear(str(err.value), "utf16le.csv", "NUL", "utf-16")
    assert_nothing_written(loupe_home)


def test_some_nan_and_inf_targets_are_dropped_with_a_notice(tmp_path: Path, store) -> None:
    path = _write(tmp_path, "gaps.csv", "a,b,y\n" + ROWS + "1,2,nan\n3,4,inf\n5,6,-inf\n7,8,\n")
    cfg = RunConfig(task="tabular").replace(data={"source": str(path), "target": "y"},
                                            train={"epochs": 1, "max_steps": 1})
    result = train(cfg, store)
    assert result.status == "completed"
    assert any("4 rows with an empty, NaN or infinite target were left out" in n
               for n in result.report["notices"]), result.report["notices"]


def test_a_million_rows_are_sampled_with_a_notice(tmp_path: Path, run_cli) -> None:
    """1,000,000 rows through `loupe train`: it completes on a 200,000-row sample and says so.
    (No timing assertion: the suite's timeout is the bound.)"""
    rng = np.random.default_rng(0)
    block = rng.normal(size=(10_000, 3)).round(3)
    lines = "".join(f"{a},{b},{c},{a - 2 * b + c / 2:.3f}\n" for a, b, c in block)
    path = tmp_path / "million.csv"
    with path.open("w") as out:
        out.write("a,b,c,y\n")
        for _ in range(100):
            out.write(lines)
    code, err = run_cli("train", "tabular", "--data", str(path), "--target", "y", "--epochs", "1",
                        "--max-steps", "2", "--batch-size", "4096", "--quiet")
    assert code == 0, err
    assert "1,000,000 rows; a random sample of 200,000 rows" in run_cli.stdout, run_cli.stdout


def test_misspelt_target_names_the_column(tmp_path: Path, loupe_home: Path) -> None:
    path = _write(tmp_path, "ok.csv", "a,b,y\n" + ROWS)
    cfg = RunConfig(task="tabular").replace(data={"source": str(path), "target": "nope"})
    with pytest.raises(LoupeError) as err:
        train(cfg)
    assert_clear(str(err.value), "no column 'nope'")
    assert_nothing_written(loupe_home)


# --- text kind -------------------------------------------------------------------------------
def _reviews(n: int = 40) -> list[str]:
    words = ["great", "awful", "fine", "broken", "lovely", "slow"]
    return [f"review {i}: the blender was {words[i % len(words)]} and arrived on day {i}"
            for i in range(n)]


def _text_bad() -> dict[str, tuple[str, bytes | str, list[str]]]:
    texts = _reviews()
    labelled = [f'{{"text": "{t}", "label": {i % 2}}}' for i, t in enumerate(texts)]
    return {
        "single class": ("one.csv", "text,label\n" + "".join(f"{t},pos\n" for t in texts),
                         ["one.csv", "every row has the label 'pos'", "two classes"]),
        "NaN label (JSON lines)": ("nan.jsonl", "\n".join(labelled[:5] + [
            f'{{"text": "{texts[5]}", "label": NaN}}'] + labelled[6:]) + "\n",
            ["nan.jsonl", "'label' is missing", "file lines 6"]),
        "empty label cell": ("gap.csv", "text,label\n" + "".join(
            f"{t},{'' if i == 7 else i % 2}\n" for i, t in enumerate(texts)),
            ["gap.csv", "missing", "row 8"]),
        "empty file": ("empty.csv", b"", ["empty.csv", "empty"]),
        "header only": ("header.csv", "text,label\n", ["header.csv", "no rows"]),
        "latin-1": ("latin.csv", ("text,label\n" + "".join(f"{t},{i % 2}\n" for i, t in enumerate(texts))
                                  + "très bien,1\n").encode("latin-1"),
                    ["latin.csv", "not UTF-8", f"line {len(texts) + 2}", "encoding"]),
    }


@pytest.mark.parametrize("case", list(_text_bad()))
def test_bad_text_table(case: str, tmp_path: Path, loupe_home: Path) -> None:
    name, content, words = _text_bad()[case]
    cfg = RunConfig(task="text").replace(data={"source": str(_write(tmp_path, name, content))},
                                         train={"epochs": 1, "max_steps": 1})
    with pytest.raises(LoupeError) as err:
        train(cfg)
    assert_clear(str(err.value), *words)
    assert_nothing_written(loupe_home)


def test_single_class_text_cli(tmp_path: Path, loupe_home: Path, run_cli) -> None:
    name, content, words = _text_bad()["single class"]
    code, err = run_cli("train", "text", "--data", str(_write(tmp_path, name, content)))
    assert code == 2
    assert_clear(err, *words)
    assert_nothing_written(loupe_home)


def test_duplicated_text_columns_are_refused(tmp_path: Path, loupe_home: Path) -> None:
    texts = _reviews()
    content = "text,text,label\n" + "".join(f"{t},other {t},{i % 2}\n" for i, t in enumerate(texts))
    cfg = RunConfig(task="text").replace(data={"source": str(_write(tmp_path, "dupes.csv", content))})
    with pytest.raises(LoupeError) as err:  # load_data: refused before a run
        get_text_task().load_data(cfg)
    assert_clear(str(err.value), "'text' appears more than once")
    assert_nothing_written(loupe_home)


def test_infinite_text_label_is_refused(tmp_path: Path, loupe_home: Path) -> None:
    rows = [json.dumps({"text": t, "label": i % 2}) for i, t in enumerate(_reviews())]
    for line in (5, 10, 15, 20, 25):  # enough rows that 'inf' would survive the split as a class
        rows[line - 1] = json.dumps({"text": f"odd one {line}", "label": float("inf")})  # Infinity
    cfg = RunConfig(task="text").replace(
        data={"source": str(_write(tmp_path, "inf.jsonl", "\n".join(rows)))})
    with pytest.raises(LoupeError) as err:
        get_text_task().load_data(cfg)
    assert_clear(str(err.value), "label", "file lines 5")
    assert_nothing_written(loupe_home)


def get_text_task():
    from core.tasks import get_task

    return get_task("text")


def test_text_over_100k_characters_is_truncated_with_a_notice(tmp_path: Path, store) -> None:
    texts = _reviews(16)
    texts[3] = "a very long review " * 6_000  # 114,000 characters
    assert len(texts[3]) > 100_000
    rows = [json.dumps({"text": t, "label": ["neg", "pos"][i % 2]}) for i, t in enumerate(texts)]
    path = _write(tmp_path, "long.jsonl", "\n".join(rows))
    cfg = get_text_task().default_config().replace(
        data={"source": str(path)}, model={"max_length": 32},
        train={"epochs": 1, "max_steps": 1, "batch_size": 8})
    result = train(cfg, store)
    assert result.status == "completed"
    notices = result.report["notices"]
    assert any("longer than 32 tokens and were truncated" in n for n in notices), notices
    assert result.report["truncation"]["total"] >= 1
