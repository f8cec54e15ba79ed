"""Issue 13 item 6: output paths. Existing files are refused unless --force; a wrong suffix, a
folder, a file used as a folder and a missing folder are clear errors naming the path and the fix;
every output is validated before anything is written; writes leave no partial file behind."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.errors import LoupeError
from core.output import atomic_write, check_output
from tests.hostile.conftest import assert_clear
from tests.hostile.output_runs import hostile_tabular_run


@pytest.fixture
def tab(monkeypatch: pytest.MonkeyPatch) -> tuple[Path, str]:
    home, run_id = hostile_tabular_run()
    monkeypatch.setenv("LOUPE_HOME", str(home))
    return home, run_id


def _error(err: str, *words: str) -> None:
    assert err.lstrip().startswith("error:"), err
    assert_clear(err, *words)


def test_existing_outputs_are_refused_without_force(run_cli, tab, tmp_path: Path) -> None:
    home, run_id = tab
    data = str(home / "new_rows.csv")
    cases = {
        "p.csv": ("predict", run_id, "--data", data, "--out"),
        "e.csv": ("explain", run_id, "--input", data, "--quiet", "--out"),
        "e.html": ("explain", run_id, "--input", data, "--quiet", "--html"),
        "m.zip": ("export", run_id, "--out"),
    }
    for name, argv in cases.items():
        target = tmp_path / name
        target.write_text("keep me")
        code, err = run_cli(*argv, str(target))
        assert code == 2, (name, err)
        _error(err, name, "already exists", "--force")
        assert target.read_text() == "keep me", name
        code, err = run_cli(*argv, str(target), "--force")
        assert code == 0, (name, err)
        assert target.read_text(errors="replace") != "keep me", name
    report = tmp_path / "r.html"
    report.write_text("keep me")
    code, err = run_cli("export", run_id, "--out", str(tmp_path / "new.zip"), "--report", str(report))
    assert code == 2 and report.read_text() == "keep me"
    assert not (tmp_path / "new.zip").exists()  # checked before the zip was written
    assert sorted(p.name for p in tmp_path.iterdir() if ".part" in p.name) == []


def test_report_into_an_existing_folder_fails_before_the_zip(run_cli, tab, tmp_path: Path) -> None:
    _, run_id = tab
    (tmp_path / "reports").mkdir()
    code, err = run_cli("export", run_id, "--out", str(tmp_path / "m.zip"), "--report",
                        str(tmp_path / "reports"))
    assert code == 2
    _error(err, "reports", "is a folder")
    assert not (tmp_path / "m.zip").exists()


def test_wrong_suffix_is_a_clear_error(run_cli, tab, tmp_path: Path) -> None:
    home, run_id = tab
    code, err = run_cli("predict", run_id, "--data", str(home / "new_rows.csv"), "--out",
                        str(tmp_path / "x.txt"))
    assert code == 2
    _error(err, "x.txt", ".csv", ".parquet")
    assert not (tmp_path / "x.txt").exists()
    code, err = run_cli("export", run_id, "--out", str(tmp_path / "m.zip"), "--report",
                        str(tmp_path / "r.pdf"))
    assert code == 2
    _error(err, "r.pdf", ".html")
    assert not (tmp_path / "m.zip").exists()


def test_file_used_as_a_folder_and_missing_folder(run_cli, tab, tmp_path: Path) -> None:
    home, run_id = tab
    (tmp_path / "file.txt").write_text("x")
    data = str(home / "new_rows.csv")
    code, err = run_cli("predict", run_id, "--data", data, "--out", str(tmp_path / "file.txt" / "x.csv"))
    assert code == 2
    _error(err, "file.txt", "not a folder")
    code, err = run_cli("predict", run_id, "--data", data, "--out", str(tmp_path / "missing" / "x.csv"))
    assert code == 2
    _error(err, "missing", "does not exist", "mkdir")
    code, err = run_cli("export", run_id, "--out", str(tmp_path / "missing" / "m.zip"))
    assert code == 2
    _error(err, "missing", "does not exist")
    assert not (tmp_path / "missing").exists()


def test_two_outputs_cannot_be_the_same_file(run_cli, tab, tmp_path: Path) -> None:
    home, run_id = tab
    same = str(tmp_path / "same.html")
    code, err = run_cli("explain", run_id, "--input", str(home / "new_rows.csv"), "--quiet",
                        "--html", same, "--out", same)
    assert code == 2  # .html is no table suffix, and one file cannot hold both


def test_atomic_write_keeps_the_old_file_when_writing_fails(tmp_path: Path) -> None:
    target = tmp_path / "keep.csv"
    target.write_text("old")

    class Boom:  # bytes-like that fails half-way through the write
        def __len__(self) -> int:
            return 10

    with pytest.raises(TypeError):
        atomic_write(target, Boom())  # type: ignore[arg-type]
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["keep.csv"]
    with pytest.raises(LoupeError) as info:
        check_output(target, (".csv",))
    assert "--force" in str(info.value)
    assert check_output(target, (".csv",), force=True) == target
