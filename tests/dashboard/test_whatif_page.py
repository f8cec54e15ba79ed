"""The Explain page's what-if mode against the tiny trained tabular run: edit a feature, compare,
pin and unpin; effect curves that redraw from the cached grid."""

from __future__ import annotations

import pytest

from tests.dashboard.conftest import no_exception, open_page
from tests.dashboard.test_text_image_pages import _png, kinds_home  # noqa: F401 (a fixture)

WHATIF = "What-if: edit and compare"


def _button(at, label: str):
    return next(b for b in at.button if b.label == label)


def _whatif(run_id: str):
    at = open_page("explain")
    no_exception(at)
    assert at.selectbox(key="explain_run").value == run_id
    at.radio(key="explain_mode").set_value(WHATIF).run()
    no_exception(at)
    return at


def _text(at) -> str:
    parts = [m.value for m in at.markdown] + [w.value for w in at.warning] + [i.value for i in at.info]
    return "\n".join(str(p) for p in parts).replace("\\", "")  # Markdown escapes


def test_edit_compare_pin_and_unpin_a_row(trained: str) -> None:
    from core.store import RunStore
    from core.whatif.pins import pinned_comparisons

    at = _whatif(trained)
    assert not any(b.label == "Compare" for b in at.button)  # no original yet
    _button(at, "Use as the original").click().run()
    no_exception(at)
    _button(at, "Compare").click().run()
    assert any("Nothing is edited yet" in i.value for i in at.info), "an unedited input is not compared"
    bmi = next(s for s in at.slider if s.label == "bmi")
    bmi.set_value(float(bmi.max)).run()
    no_exception(at)
    _button(at, "Compare").click().run()
    no_exception(at)
    shown = _text(at)
    assert "The prediction moved" in shown or "Same prediction" in shown
    assert "bmi:" in shown, "the change is listed"
    values = at.dataframe[0].value
    assert values.loc[values["changed"] == "●", "feature"].tolist() == ["bmi"]
    headers = [m.value for m in at.markdown if m.value.startswith("####")]
    assert headers == ["#### Original", "#### Edited"]
    labels = [m.label for m in at.metric]
    assert labels.count("Predicted progression") == 2, labels

    at.text_input(key=f"whatif_pin_title_{trained}").set_value("heavier patient")
    _button(at, "Pin this comparison").click().run()
    no_exception(at)
    assert any("Pinned: heavier patient" in s.value for s in at.success)
    pins = pinned_comparisons(trained, RunStore())
    assert [p.title for p in pins] == ["heavier patient"]
    assert any(c.startswith("bmi:") for c in pins[0].changes)
    assert any("heavier patient" in m.value for m in at.markdown), "listed under Pinned comparisons"

    at.toggle(key=f"whatif_pin_view_{pins[0].id}").set_value(True).run()
    no_exception(at)
    assert [m.value for m in at.markdown if m.value.startswith("####")].count("#### Original") == 2
    _button(at, "Remove").click().run()
    no_exception(at)
    assert pinned_comparisons(trained, RunStore()) == []
    assert not any("heavier patient" in m.value for m in at.markdown)


def test_a_worst_validation_row_is_a_starting_point(trained: str) -> None:
    at = _whatif(trained)
    source = at.radio(key=f"whatif_source_{trained}")
    if len(source.options) < 2:
        pytest.skip("the tiny run's report lists no worst validation rows")
    source.set_value(source.options[1]).run()
    no_exception(at)
    assert any(s.label == "bmi" for s in at.slider), "the editor is prefilled from the picked row"


def test_effect_curves_redraw_without_the_model(trained: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import core.whatif.tabular as tabular

    calls = []
    real = tabular.grid_outputs
    monkeypatch.setattr(tabular, "grid_outputs", lambda *a, **k: calls.append(1) or real(*a, **k))
    at = _whatif(trained)
    at.selectbox(key=f"whatif_effect_feature_{trained}").set_value("bp").run()
    no_exception(at)
    assert any(m.label == "Mean predicted progression" for m in at.metric)
    assert any(m.label == "Rows averaged" for m in at.metric)
    first = calls.copy()
    slider = at.select_slider(key=f"whatif_effect_value_{trained}_bp")
    before = next(m.value for m in at.metric if m.label == "Mean predicted progression")
    for value in (0, len(slider.options) - 1):
        at.select_slider(key=f"whatif_effect_value_{trained}_bp").set_value(value).run()
        no_exception(at)
    after = next(m.value for m in at.metric if m.label == "Mean predicted progression")
    assert calls == first, "dragging the slider read the cached grid, no model call"
    assert len(first) <= 1
    assert before or after


# Text and image: the tiny runs of test_text_image_pages (a 2-layer BERT and a small CNN).
@pytest.fixture
def runs(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> tuple[str, str]:
    home, text, image = request.getfixturevalue("kinds_home")
    monkeypatch.setenv("LOUPE_HOME", str(home))
    return text, image


def _kind_whatif(run_id: str):
    at = open_page("explain")
    at.selectbox(key="explain_run").set_value(run_id).run()
    at.radio(key="explain_mode").set_value(WHATIF).run()
    no_exception(at)
    return at


def test_edit_and_compare_a_text(runs: tuple[str, str]) -> None:
    text, _ = runs
    at = _kind_whatif(text)
    at.text_area(key=f"whatif_{text}_text").set_value("great value, works perfectly")
    _button(at, "Use as the original").click().run()
    no_exception(at)
    edit = next(t for t in at.text_area if t.label == "Edited text")
    assert edit.value == "great value, works perfectly", "the editor starts from the original"
    edit.set_value("great value, broke after a day").run()
    _button(at, "Compare").click().run(timeout=300)
    no_exception(at)
    shown = _text(at)
    assert "Same decision" in shown or "The decision changed" in shown
    assert "removed: works perfectly" in shown and "added: broke after a day" in shown
    assert ":red-background[~~works perfectly~~]" in shown  # marked in the text itself
    assert ":green-background[broke after a day]" in shown
    assert [m.label for m in at.metric].count("Predicted class") == 2


def test_marked_texts_are_masked_and_escaped() -> None:
    from dashboard.kinds.text import marked_texts

    shown = marked_texts("Ask Margaret Thornbury, it is [great] *really*",
                         "Ask Margaret Thornbury, it is awful *really*")
    assert "Thornbury" not in shown and "\\*really\\*" in shown
    assert ":red-background[~~\\[great\\]~~]" in shown and ":green-background[awful]" in shown


def test_blur_a_box_of_an_image_and_compare(runs: tuple[str, str]) -> None:
    _, image = runs
    at = _kind_whatif(image)
    at.file_uploader(key=f"whatif_{image}_image").set_value(("red.png", _png(), "image/png")).run()
    no_exception(at)
    box = next(s for s in at.slider if s.label == "Box left → right (%)")
    box.set_value((10, 60)).run()
    at.radio(key=next(r.key for r in at.radio if r.label == "Fill the box with")).set_value("grey").run()
    no_exception(at)
    assert at.get("imgs") or at.get("image"), "a preview of the edited image"
    _button(at, "Compare").click().run(timeout=300)
    no_exception(at)
    shown = _text(at)
    assert "box greyed out at left 10%, top 30%, right 60%, bottom 70%" in shown
    assert [m.label for m in at.metric].count("Predicted class") == 2


def test_find_the_smallest_change_for_a_row(trained: str) -> None:
    from core.predict import load_predictor
    from core.store import RunStore

    at = _whatif(trained)
    _button(at, "Use as the original").click().run()
    no_exception(at)
    key = next(n.key for n in at.number_input if n.label.startswith("Reach a predicted"))
    target = float(at.number_input(key=key).value)  # 10% above today's prediction
    editable = next(m for m in at.multiselect if m.label == "Columns that may change")
    editable.set_value([]).run()
    no_exception(at)
    assert any("pick at least one column" in e.value for e in at.error)
    assert not any(b.label == "Find the smallest change" for b in at.button)
    next(m for m in at.multiselect if m.label == "Columns that may change").set_value(["bmi", "bp"]).run()
    _button(at, "Find the smallest change").click().run(timeout=300)
    no_exception(at)
    [result] = at.session_state["whatif_counterfactuals"].values()
    shown = _text(at) + "\n".join(s.value for s in at.success)
    assert result.summary().replace("\\", "") in shown.replace("\\", "")
    if result.found:  # the model itself is past the target with the edit shown
        best = result.solutions[0]
        assert {c["column"] for c in best["changes"]} <= {"bmi", "bp"}
        row = at.session_state[f"whatif_original_{trained}"][0]
        edited = dict(row)
        edited.update({c["column"]: c["new"] for c in best["changes"]})
        import pandas as pd

        predictor = load_predictor(trained, RunStore(), "cpu")
        assert float(predictor.predict(pd.DataFrame([edited]))["prediction"].iloc[0]) >= target - 1e-6
        assert at.dataframe, "the changes are listed"
    else:
        assert "No change found" in shown


def test_find_the_smallest_change_for_a_text_and_an_image(runs: tuple[str, str]) -> None:
    text, image = runs
    at = _kind_whatif(text)
    at.text_area(key=f"whatif_{text}_text").set_value("great value, works perfectly")
    _button(at, "Use as the original").click().run()
    at.radio(key=next(r.key for r in at.radio if r.label == "Edit words by")).set_value("mask").run()
    _button(at, "Find the smallest change").click().run(timeout=300)
    no_exception(at)
    assert at.session_state["whatif_counterfactuals"]
    at = _kind_whatif(image)
    at.file_uploader(key=f"whatif_{image}_image").set_value(("red.png", _png(), "image/png")).run()
    _button(at, "Find the smallest change").click().run(timeout=300)
    no_exception(at)
    [result] = [r for (run, *_), r in at.session_state["whatif_counterfactuals"].items() if run == image]
    shown = _text(at) + "\n".join(s.value for s in at.success)
    assert result.summary() in shown and (result.found or "No change found" in shown)
