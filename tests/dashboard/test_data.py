"""Data: uploads are checked and stored safely; privacy report and masked preview come first;
unmasking is recorded; errors from core are shown with st.error."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd

from core.store.privacy_log import audit_log
from tests.dashboard.conftest import no_exception, open_page


def _csv(frame: pd.DataFrame) -> bytes:
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False)
    return buffer.getvalue().encode()


def _upload(at, name: str, data: bytes, kind: str = "tabular"):
    at.file_uploader(key=f"data_upload_{kind}").set_value((name, data, "text/csv"))
    return at.run()


def _button(at, label: str):
    return next(b for b in at.button if b.label == label)


def test_data_page_widgets() -> None:
    at = open_page("data")
    no_exception(at)
    assert at.selectbox(key="data_kind").value == "tabular"
    assert at.radio(key="data_mode").options == ["Upload a file", "Use a sample"]
    assert len(at.file_uploader) == 1
    assert at.info, "asks for a file or a sample"


def test_sample_shows_report_preview_and_target_choice() -> None:
    at = open_page("data")
    at.radio(key="data_mode").set_value("Use a sample").run()
    no_exception(at)
    assert [m.label for m in at.metric][:2] == ["Rows", "Columns"]
    assert any(s.value.startswith("Preview") for s in at.subheader)
    assert at.selectbox(key="data_tabular_target").value == "price"
    _button(at, "Check data").click().run()
    no_exception(at)
    assert at.success and "Ready" in at.success[0].value


def test_empty_and_headerless_uploads_are_errors() -> None:
    at = open_page("data")
    _upload(at, "empty.csv", b"")
    no_exception(at)
    assert at.error and "empty" in at.error[0].value
    _upload(at, "header_only.csv", b"a,b,c\n")
    no_exception(at)
    assert at.error and "no data rows" in at.error[0].value


def test_upload_is_stored_under_its_hash_with_a_safe_name(loupe_home) -> None:
    frame = pd.DataFrame({"x": np.arange(30.0), "y": np.arange(30.0) * 2})
    at = open_page("data")
    _upload(at, "../../etc/evil name?.csv", _csv(frame))
    no_exception(at)
    files = list((loupe_home / "uploads").rglob("*.csv"))
    assert len(files) == 1
    assert files[0].name == "evil_name.csv" and files[0].parent.parent == loupe_home / "uploads"


def test_bad_target_from_core_is_an_error() -> None:
    frame = pd.DataFrame({"x": [1.0, 2.0, 3.0], "y": [2.0, 4.0, 6.0]})  # too few rows to split
    at = open_page("data")
    _upload(at, "tiny.csv", _csv(frame))
    _button(at, "Check data").click().run()
    no_exception(at)
    assert at.error and "at least 20" in at.error[0].value


def test_personal_data_is_masked_and_unmasking_is_recorded(store) -> None:
    frame = pd.DataFrame({
        "email": [f"person{i}@example.com" for i in range(40)],
        "spend": np.linspace(5, 500, 40),
        "visits": np.arange(40) % 7,
    })
    at = open_page("data")
    _upload(at, "customers.csv", _csv(frame))
    no_exception(at)
    preview = at.dataframe[0].value
    assert not preview["email"].str.contains("@example.com").any()
    assert any(s.value == "Preview (masked)" for s in at.subheader)
    at.multiselect[0].set_value(["email"])
    at.checkbox[0].check().run()
    _button(at, "Unmask").click().run()
    no_exception(at)
    assert at.dataframe[0].value["email"].str.contains("@example.com").all()
    log = audit_log(store)
    assert list(log["action"]) == ["unmask"] and log["columns"][0] == ["email"]
    _button(at, "Mask again").click().run()
    assert not at.dataframe[0].value["email"].str.contains("@example.com").any()


def test_train_on_this_data_hands_the_columns_to_train() -> None:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"a": rng.random(60), "b": rng.random(60), "target": rng.random(60)})
    at = open_page("data")
    _upload(at, "mine.csv", _csv(frame))
    at.selectbox(key="data_tabular_target").set_value("target")
    _button(at, "Train on this data").click().run()
    no_exception(at)
    assert at.title[0].value == "Train"
    source = at.selectbox(key="train_source_tabular").value
    assert source.endswith("mine.csv")
    assert at.session_state["data_choices"]["tabular"]["data"]["target"] == "target"


def test_image_zip_is_checked_by_the_image_kind() -> None:
    import zipfile

    from PIL import Image

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for label, colour in (("red", (220, 30, 30)), ("blue", (30, 30, 220))):
            for i in range(6):
                image = io.BytesIO()
                Image.new("RGB", (24, 24), tuple(max(0, c - 9 * i) for c in colour)).save(image, "PNG")
                zf.writestr(f"pics/{label}/{i}.png", image.getvalue())
    at = open_page("data", {"data_kind": "image"})
    at.file_uploader(key="data_upload_image").set_value(("pics.zip", buffer.getvalue(), "application/zip"))
    at.run()
    no_exception(at)
    assert not at.error
    next(b for b in at.button if b.label == "Check data").click().run()
    no_exception(at)
    assert at.success and "Ready" in at.success[0].value, [e.value for e in at.error]


def test_data_check_from_the_data_page_uses_a_run_trained_on_this_data(loupe_home) -> None:
    from core.config import DataConfig, ModelConfig, RunConfig, TrainConfig
    from core.store import RunStore
    from core.train import train

    at = open_page("data")
    at.radio(key="data_mode").set_value("Use a sample").run()
    no_exception(at)
    assert any("Train a run on this data, then check it here" in c.value for c in at.caption)
    from core.datasets.samples import sample_source

    source = sample_source(at.selectbox(key="data_sample_tabular").value)
    cfg = RunConfig(task="tabular", name="houses",
                    data=DataConfig(source=source, target="price", max_rows=300),
                    model=ModelConfig(name="trees"), train=TrainConfig(device="cpu"))
    run_id = train(cfg, RunStore()).run_id
    at = open_page("data")
    at.radio(key="data_mode").set_value("Use a sample").run()
    no_exception(at)
    assert at.selectbox(key="data_check_run_tabular").value == run_id
    assert any(b.label == "Check this run's data" for b in at.button)
