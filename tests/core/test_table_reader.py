"""One table reader: `loupe inspect`, `loupe train` (tabular and text), `loupe predict` and the
dashboard's uploads read a file through ``core.datasets.tables.read_table``, so the same awkward
file gives the same error text on every path (before issue 14, inspect had its own reader: a
latin-1 CSV there said "'utf-8' codec can't decode byte 0xe9 in position 40", no line, no fix).

The core functions behind each command are called directly (the CLI wiring is tested elsewhere).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from core.config import DataConfig, RunConfig
from core.datasets.tables import read_table
from core.datasets.texts import read_text_table
from core.errors import LoupeError
from core.privacy.inspection import inspect_file, load_table
from core.tasks import get_task

ROWS = "".join(f"great blender {i},{i % 3},{i % 2}\n" for i in range(30))


def _latin1() -> bytes:
    return ("text,n,y\n" + ROWS + "très bien,1,1\n").encode("latin-1")


# case -> (file name, bytes, words every path's message must hold)
AWKWARD: dict[str, tuple[str, bytes, list[str]]] = {
    "latin-1 without --encoding": ("cities.csv", _latin1(),
                                   ["cities.csv", "not valid UTF-8", "line 32", "--encoding latin-1"]),
    "UTF-16 without BOM": ("utf16le.csv", ("text,n,y\n" + ROWS).encode("utf-16-le"),
                           ["utf16le.csv", "NUL", "line 1", "--encoding utf-16-le"]),
    "ragged TSV": ("ragged.tsv", ("text\tn\ty\n" + ROWS.replace(",", "\t")
                                 + "a\tb\tc\td\n").encode(),
                   ["ragged.tsv", "different numbers of fields", "line 32", "'\\t'"]),
    "JSONL with a bad line": ("bad.jsonl", b'{"text": "ok", "n": 1, "y": 0}\n'
                              b'{"text": "fine", "n": 2, "y": 1}\n{"text": "oops", "n": \n',
                              ["bad.jsonl", "line 3", "not valid JSON", "one JSON object per line"]),
    "too large": ("big.csv", ("text,n,y\n" + ROWS * 20).encode(),
                  ["big.csv", "Loupe reads tables up to 1.0 KB", "LOUPE_MAX_TABLE_MB"]),
    "duplicated header": ("dupes.csv", ("text,n,text\n" + ROWS).encode(),
                          ["dupes.csv", "'text' appears more than once", "rename"]),
    "header only": ("header.csv", b"text,n,y\n", ["header.csv", "no data rows"]),
}


def _error(call) -> str:
    with pytest.raises(LoupeError) as err:
        call()
    return str(err.value)


def _paths(path: Path) -> dict[str, object]:
    """The function behind each command, given the file."""
    tabular = RunConfig(task="tabular").replace(data={"source": str(path), "target": "y"})
    return {
        "loupe inspect": lambda: inspect_file(path),
        "loupe inspect (load_table)": lambda: load_table(path),
        "loupe train tabular": lambda: get_task("tabular").load_data(tabular),
        "loupe train text": lambda: read_text_table(DataConfig(source=str(path))),
        "dashboard upload": lambda: read_table(path),
    }


@pytest.mark.parametrize("case", list(AWKWARD))
def test_same_file_same_error_on_every_path(case: str, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    name, data, words = AWKWARD[case]
    if case == "too large":
        monkeypatch.setenv("LOUPE_MAX_TABLE_MB", "0.001")  # 1 KB; the file is ~10 KB
    path = tmp_path / name
    path.write_bytes(data)
    messages = {command: _error(call) for command, call in _paths(path).items()}
    first = messages["loupe inspect"]
    assert "Fix:" in first and "Traceback" not in first
    for word in words:
        assert word in first, (word, first)
    different = {command: m for command, m in messages.items() if m != first}
    assert not different, (first, different)


def test_the_same_encoding_reads_the_same_rows_everywhere(tmp_path: Path) -> None:
    path = tmp_path / "cities.csv"
    path.write_bytes(_latin1())
    inspected = load_table(path, encoding="latin-1")
    trained = read_table(path, encoding="latin-1").frame
    pd.testing.assert_frame_equal(inspected, trained)
    assert inspected["text"].iloc[-1] == "très bien"
    texts = read_text_table(DataConfig(source=str(path), encoding="latin-1", label_column="y"))
    assert "très bien" in texts.texts


@pytest.mark.parametrize("name,content", [
    ("eu.csv", "city;n;y\nLyon;1;2\nGraz;3;4\n"),
    ("tabs.tsv", "city\tn\ty\nLyon\t1\t2\nGraz\t3\t4\n"),
    ("tabs.csv", "city\tn\ty\nLyon\t1\t2\nGraz\t3\t4\n"),
    ("rows.jsonl", '{"city": "Lyon", "n": 1, "y": 2}\n\n{"city": "Graz", "n": 3, "y": 4}\n'),
    ("list.json", '[{"city": "Lyon", "n": 1, "y": 2}, {"city": "Graz", "n": 3, "y": 4}]'),
])
def test_separators_and_json_forms_read_alike(name: str, content: str, tmp_path: Path) -> None:
    path = tmp_path / name
    path.write_text(content)
    frame = read_table(path).frame
    assert list(frame.columns) == ["city", "n", "y"] and frame["city"].tolist() == ["Lyon", "Graz"]
    pd.testing.assert_frame_equal(load_table(path), frame)
    if name.endswith(".jsonl"):  # JSON Lines keep each row's file line (the blank line skipped)
        assert read_table(path).lines == [1, 3]


def test_sampling_keeps_each_rows_file_line(tmp_path: Path) -> None:
    path = tmp_path / "many.jsonl"
    path.write_text("".join(f'{{"i": {i}}}\n' for i in range(50)))
    table = read_table(path, max_rows=10, seed=1)
    assert len(table.frame) == 10 and table.notices
    assert [line - 1 for line in table.lines] == table.frame["i"].tolist()


def test_loupe_inspect_reads_a_latin1_file_once_given_its_encoding(tmp_path: Path, capsys) -> None:
    """The reader's fix says "--encoding latin-1 on the command line": `loupe inspect` takes it."""
    from core.cli import main

    path = tmp_path / "cities.csv"
    path.write_bytes(_latin1())
    assert main(["inspect", str(path), "--json"]) == 2
    assert "--encoding latin-1" in capsys.readouterr().err
    assert main(["inspect", str(path), "--encoding", "latin-1", "--json"]) == 0
    import json

    assert json.loads(capsys.readouterr().out)["n_rows"] == 31
