"""Hostile uploads through the dashboard's Data page (AppTest drives ``st.file_uploader``).

The page saves an upload under LOUPE_HOME/uploads/<sha256>/<sanitised name>, reads tables at once
(``dashboard.resources.read_upload_table`` -> ``core.datasets.tables.read_table``) and runs the kind's
loader on "Check data". Documented outcome: an ``st.error`` naming the problem and the fix, no
exception on the page, no run row, and nothing under LOUPE_HOME but the stored upload itself.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.hostile.conftest import (
    assert_nothing_written,
    leftovers,
    marker_pickle,
    open_dashboard_page,
    png_bytes,
    zip_of,
)
from tests.markdown_text import shown

UPLOADS = ("uploads/",)
ROWS = "".join(f"{i},{i % 5},{3 * i + 1}\n" for i in range(40))


def _page(kind: str = "tabular"):
    at = open_dashboard_page("data")
    if kind != "tabular":
        at.selectbox(key="data_kind").set_value(kind).run()
    return at


def _upload(at, kind: str, name: str, data: bytes):
    at.file_uploader(key=f"data_upload_{kind}").set_value((name, data, "application/octet-stream"))
    return at.run()


def _check(at):
    next(b for b in at.button if b.label == "Check data").click()
    return at.run()


def _errors(at) -> str:
    assert not at.exception, [e.value for e in at.exception]
    return "\n".join(shown(e.value) for e in at.error)


def _latin1() -> bytes:
    return ("city,n,y\nBern,1,2\nBasel,2,3\nGenf,3,4\nZürich,4,5\n" + "Chur,5,6\n" * 30).encode("latin-1")


TABLE_UPLOADS = {
    "latin-1": ("cities.csv", _latin1(), ["not valid UTF-8", "line 5", "Fix:"]),
    "ragged": ("ragged.csv", ("a,b,y\n1,2,3\n4,5,6,7,8\n" + ROWS).encode(), ["different numbers of fields",
                                                                          "line 3", "Fix:"]),
    "duplicated columns": ("dupes.csv", ("y,b,y\n" + ROWS).encode(), ["'y' appears more than once",
                                                                     "Fix:"]),
    "header only": ("header.csv", b"a,b,y\n", ["no data rows", "Fix:"]),
    "whitespace only": ("blank.csv", b"\n\n   \n", ["empty", "Fix:"]),
}


def test_bad_table_uploads_show_an_error(loupe_home: Path, tmp_path: Path) -> None:
    at = _page()
    for case, (name, data, words) in TABLE_UPLOADS.items():
        message = _errors(_upload(at, "tabular", name, data))
        for word in words:
            assert word in message, (case, message)
    assert_nothing_written(loupe_home, allow=UPLOADS)


def test_pickle_uploads_are_never_loaded(loupe_home: Path, tmp_path: Path) -> None:
    """A pickle named .csv is text that does not decode; a .pkl is not a type Loupe stores."""
    from core.errors import LoupeError
    from dashboard.resources import save_upload

    marker = tmp_path / "PICKLE_RAN"
    at = _page()
    message = _errors(_upload(at, "tabular", "model.csv", marker_pickle(marker)))
    assert "not valid UTF-8" in message and "Fix:" in message
    with pytest.raises(LoupeError, match="not a file type Loupe reads"):
        save_upload("model.pkl", marker_pickle(marker))  # what the page calls for every upload
    assert not marker.exists()
    assert not list((loupe_home / "uploads").rglob("*.pkl"))
    assert_nothing_written(loupe_home, allow=UPLOADS)


def test_utf16_upload_is_read(loupe_home: Path) -> None:
    at = _page()
    message = _errors(_upload(at, "tabular", "utf16.csv", ("a,b,y\n" + ROWS).encode("utf-16")))
    assert not message
    assert at.selectbox(key="data_tabular_target").options == ["a", "b", "y"]


def test_nan_and_inf_targets_check_with_a_notice(loupe_home: Path) -> None:
    at = _page()
    data = ("a,b,y\n" + ROWS + "1,2,nan\n2,3,inf\n3,4,-inf\n").encode()
    assert not _errors(_upload(at, "tabular", "gaps.csv", data))
    at.selectbox(key="data_tabular_target").set_value("y").run()
    assert not _errors(_check(at))
    assert at.success and "Ready" in at.success[0].value
    assert any("3 rows with an empty, NaN or infinite target" in shown(i.value) for i in at.info)
    assert_nothing_written(loupe_home, allow=UPLOADS)


def test_an_unreadable_upload_leaves_nothing_behind(loupe_home: Path) -> None:
    """An upload that cannot be read is not kept (dashboard.resources.discard_upload)."""
    at = _page()
    assert _errors(_upload(at, "tabular", "cities.csv", _latin1()))
    assert leftovers(loupe_home) == []


def test_latin1_upload_reads_once_its_encoding_is_chosen(loupe_home: Path) -> None:
    """The error names the 'Text encoding' control; choosing Latin-1 reads the file (Zürich intact)
    and the check passes with the encoding carried into the run's data settings."""
    at = _page()
    message = _errors(_upload(at, "tabular", "cities.csv", _latin1()))
    assert "Text encoding" in message
    at.selectbox(key="data_encoding_tabular").set_value("latin-1").run()
    assert _errors(at) == ""
    preview = "\n".join(df.value.to_csv() for df in at.dataframe)
    assert "Zürich" in preview, preview[:500]
    at.selectbox(key="data_tabular_target").set_value("y").run()
    assert _errors(_check(at)) == ""
    assert at.success


def test_hostile_zip_uploads_are_refused_on_check(loupe_home: Path) -> None:
    good = [(f"cats/{i}.png", png_bytes(color=(200, 0, 0))) for i in range(3)] + \
           [(f"dogs/{i}.png", png_bytes(color=(0, 0, 200))) for i in range(3)]
    zips = {
        "traversal": (zip_of(loupe_home.parent / "dotdot.zip", [*good, ("../../evil.png", png_bytes())]),
                      ["unsafe entry '../../evil.png'", "Fix:"]),
        "bomb": (zip_of(loupe_home.parent / "bomb.zip", [*good, ("cats/big.png", bytes(16 << 20))]),
                 ["zip bomb", "Fix:"]),
    }
    at = _page("image")
    for case, (path, words) in zips.items():
        _upload(at, "image", path.name, path.read_bytes())
        message = _errors(_check(at))
        for word in words:
            assert word in message, (case, message)
    assert not [p for p in loupe_home.parent.rglob("evil*") if p.is_file()]
    assert_nothing_written(loupe_home, allow=UPLOADS)


def test_single_class_text_upload_is_refused_on_check(loupe_home: Path) -> None:
    data = ("text,label\n" + "".join(f"review {i} was fine,pos\n" for i in range(30))).encode()
    at = _page("text")
    assert not _errors(_upload(at, "text", "one.csv", data))
    message = _errors(_check(at))
    assert "every row has the label 'pos'" in message and "Fix:" in message
    assert_nothing_written(loupe_home, allow=UPLOADS)
