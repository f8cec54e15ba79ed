"""Runs: filter/sort/paginate in the store, compare selected runs, rename/tag/note/delete."""

from __future__ import annotations

from tests.dashboard.conftest import no_exception, open_page, seed_runs


def test_runs_page_without_runs() -> None:
    at = open_page("runs")
    no_exception(at)
    assert at.selectbox(key="runs_task").value == "(all)"
    assert any("0 runs match" in c.value for c in at.caption)


def test_filters_and_pagination(store) -> None:
    seed_runs(store, 12, points=0)
    at = open_page("runs")
    no_exception(at)
    assert len(at.dataframe[0].value) == 12
    at.selectbox(key="runs_size").set_value(10).run()
    assert len(at.dataframe[0].value) == 10
    at.number_input(key="runs_page").set_value(2).run()
    assert list(at.dataframe[0].value["name"]) == ["seed-1", "seed-0"]  # newest first
    at.number_input(key="runs_page").set_value(1)
    at.selectbox(key="runs_task").set_value("text").run()
    no_exception(at)
    shown = at.dataframe[0].value
    assert len(shown) == 4 and set(shown["task"]) == {"text"}
    at.text_input(key="runs_tag").set_value("seed").run()
    assert set(at.dataframe[0].value["name"]) == {"seed-1", "seed-7"}
    at.text_input(key="runs_text").set_value("seed-1").run()
    assert list(at.dataframe[0].value["name"]) == ["seed-1"]


def test_compare_selected_runs(store) -> None:
    ids = seed_runs(store, 4)
    at = open_page("runs", {"compare_ids": ids[:3]})
    no_exception(at)
    assert [t.label for t in at.tabs] == ["Curves", "Metrics", "Hyperparameters", "Reports", "Manage"]
    metrics = at.dataframe[1].value
    assert set(metrics["id"]) == set(ids[:3])
    assert at.selectbox(key="runs_hp_metric").value in {"test_rmse", "test_loss", "test_macro_f1"}
    # 1 curve (loss) + parallel coordinates + 3 reports (2 figures for the tabular one, 1 per classifier)
    assert len(at.get("plotly_chart")) >= 1 + 1 + 4


def test_rename_tag_note_and_delete(store) -> None:
    ids = seed_runs(store, 2)
    at = open_page("runs", {"compare_ids": [ids[0]]})
    name = next(t for t in at.text_input if t.label == "Name")
    name.set_value("renamed")
    next(t for t in at.text_input if t.label.startswith("Tags")).set_value("best, small")
    at.text_area[0].set_value("a note")
    next(b for b in at.button if b.label == "Save changes").click().run()
    no_exception(at)
    run = store.get_run(ids[0])
    assert run["name"] == "renamed" and run["tags"] == ["best", "small"] and run["notes"] == "a note"
    at.checkbox(key=f"delete_ok_{ids[0]}").check().run()
    at.button(key=f"delete_{ids[0]}").click().run()
    no_exception(at)
    assert store.count_runs() == 1
    assert not store.run_dir(ids[0], create=False).exists()
