"""The Data page as a new user meets it with real-looking data (issue 15): uploads are kept and
offered on Train until deleted (item 2), the missing-values and column-roles charts say what is
there (item 4), and a wrong quasi-identifier guess can be corrected (item 7)."""

from __future__ import annotations

import io
import json

import numpy as np
import pandas as pd
from sklearn.datasets import load_diabetes

from core.store import RunStore
from core.store.uploads import list_uploads
from tests.core.test_privacy_context import housing_frame
from tests.dashboard.conftest import no_exception, open_page


def _csv(frame: pd.DataFrame) -> bytes:
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False)
    return buffer.getvalue().encode()


def _upload(at, name: str, data: bytes):
    at.file_uploader(key="data_upload_tabular").set_value((name, data, "text/csv"))
    return at.run()


def _picker(at):
    return next(s for s in at.selectbox if s.label.startswith("Your uploads"))


def _charts(at) -> dict[str, dict]:
    out = {}
    for el in at.get("plotly_chart"):
        spec = json.loads(el.proto.spec)
        out[spec["layout"].get("title", {}).get("text", "")] = spec
    return out


def test_uploads_are_kept_offered_on_train_and_deleted(loupe_home) -> None:
    at = open_page("data")
    _upload(at, "jane_doe_housing.csv", _csv(housing_frame()))
    _upload(at, "diabetes.csv", _csv(load_diabetes(as_frame=True).frame))
    no_exception(at)
    picker = _picker(at)
    assert picker.label == "Your uploads (2)"
    labels = picker.options  # as shown: masked name · size · fingerprint · when
    assert "diabetes.csv" in labels[0]  # the newest is picked
    assert "Jane" not in " ".join(labels) and "housing.csv" in labels[1]  # names masked
    assert all(" KB · " in label and len(label.split(" · ")[2]) == 12 for label in labels)
    newest, first = [u.id for u in list_uploads(RunStore())]

    at.switch_page("views/home.py").run()
    at.switch_page("views/data.py").run()  # the uploader is empty again; the data is not
    no_exception(at)
    assert _picker(at).value == newest and at.metric[0].value == "442"
    _picker(at).set_value(first).run()  # back to the first upload
    assert at.metric[0].value == "300"
    next(b for b in at.button if b.label == "Check data").click().run()  # columns kept with it

    at.switch_page("views/train.py").run()
    sources = at.selectbox(key="train_source_tabular")
    uploads = [s for s in sources.options if s.startswith("Your upload · ")]
    assert len(uploads) == 2  # the second upload does not hide the first
    assert sum("(columns chosen on Data)" in s for s in uploads) == 1
    sources.set_value(str(list_uploads(RunStore())[1].path)).run()  # the first, still trainable
    next(b for b in at.button if b.label == "Check data").click().run()
    assert at.success and "ready" in at.success[0].value, [e.value for e in at.error]

    at.switch_page("views/data.py").run()
    next(b for b in at.button if b.label == "Delete").click().run()
    no_exception(at)
    assert _picker(at).label == "Your uploads (1)"
    assert len(list((loupe_home / "uploads").rglob("*.csv"))) == 1


def test_missing_values_and_roles_charts_say_what_is_there(loupe_home) -> None:
    frame = housing_frame(400)
    frame.loc[frame.index[:5], "total_bedrooms"] = np.nan  # 1.25% missing, as in the real table
    at = open_page("data")
    _upload(at, "housing.csv", _csv(frame))
    no_exception(at)
    figs = _charts(at)
    axis = figs["Missing values"]["layout"]["yaxis"]
    assert axis["tickformat"] == ".1~%" and 0.0125 < axis["range"][1] < 0.02
    roles = figs["Column roles"]["layout"]
    assert "No personal data found in any of the 10 columns" in roles["annotations"][0]["text"]

    clean = load_diabetes(as_frame=True).frame
    _upload(at, "diabetes.csv", _csv(clean))
    figs = _charts(at)
    assert "No missing values" in figs["Missing values"]["layout"]["annotations"][0]["text"]
    assert "Flagged by meaning: age, sex" in figs["Column roles"]["layout"]["annotations"][0]["text"]


def test_a_wrong_role_guess_is_corrected_on_the_data_page(loupe_home) -> None:
    at = open_page("data")
    _upload(at, "diabetes.csv", _csv(load_diabetes(as_frame=True).frame))
    assert "age" in at.dataframe[1].value.query("role == 'quasi-identifier'")["column"].tolist()
    next(s for s in at.selectbox if s.label == "Column").set_value("age").run()
    next(s for s in at.selectbox if s.label == "Role").set_value("none").run()
    next(b for b in at.button if b.label == "Save").click().run()
    no_exception(at)
    report = at.dataframe[1].value.set_index("column")
    assert report.loc["age", "role"] == "none" and report.loc["age", "role_source"] == "override"
    at.switch_page("views/home.py").run()
    at.switch_page("views/data.py").run()  # kept for this data
    assert at.dataframe[1].value.set_index("column").loc["age", "role_source"] == "override"
