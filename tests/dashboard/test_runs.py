"""Runs: filter/sort/paginate in the store, compare selected runs, rename/tag/note/delete."""

from __future__ import annotations

from pathlib import Path

import pytest

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
    assert [t.label for t in at.tabs] == ["Curves", "Metrics", "Hyperparameters", "Reports", "Error slices",
                                          "Data check", "Manage"]
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



def _rents_run(home: Path) -> str:
    """A tree run on apartment rents with one rent typo'd (x30) and one impossible floor."""
    import numpy as np
    import pandas as pd

    from core.config import DataConfig, ModelConfig, RunConfig, TrainConfig
    from core.store import RunStore
    from core.train import train

    rng = np.random.default_rng(5)
    n = 300
    area = np.round(rng.normal(60, 15, n), 1)
    rent = np.round(300 + 9.5 * area + rng.normal(0, 40, n))
    frame = pd.DataFrame({"city": rng.choice(["Leeds", "Porto", "Graz"], n), "area_m2": area,
                          "floor": rng.integers(0, 9, n), "rent": rent})
    frame.loc[11, "rent"] *= 30
    frame.loc[12, "floor"] = 4_000
    frame.to_csv(home / "rents.csv", index=False)
    cfg = RunConfig(task="tabular", name="rents",
                    data=DataConfig(source=str(home / "rents.csv"), target="rent"),
                    model=ModelConfig(name="trees"), train=TrainConfig(device="cpu"))
    return train(cfg, RunStore()).run_id


def test_data_check_tab_computes_once_then_shows_the_kept_result(tmp_path: Path, monkeypatch) -> None:
    from core.datacheck import cached_check

    monkeypatch.setenv("LOUPE_HOME", str(tmp_path / "home"))
    (tmp_path / "home").mkdir()
    run_id = _rents_run(tmp_path / "home")
    at = open_page("runs", {"compare_ids": [run_id]})
    no_exception(at)
    assert any("Not checked with these settings yet" in i.value for i in at.info)
    assert not [t for t in at.toggle if "Fine-tune" in t.label]  # a regressor has no label issues
    next(b for b in at.button if b.label == "Check this run's data").click().run(timeout=300)
    no_exception(at)
    check = cached_check(run_id)
    assert check is not None and {"extreme residual", "feature outlier"} <= set(check.flags["issue"])
    shown = next(d.value for d in at.dataframe if "reason" in d.value.columns)
    assert len(shown) == len(check.flags) and shown["score"].is_monotonic_decreasing
    assert "thumbnail" not in shown.columns  # a table has no images
    assert any(m.value.startswith("Checked ") for m in at.markdown)
    again = open_page("runs", {"compare_ids": [run_id]})  # a new visit: the kept result, no click
    assert not any("Not checked" in i.value for i in again.info)
    assert any(b.label == "Check again" for b in again.button)
    issues = again.multiselect(key=f"datacheck_{run_id}_issues")
    issues.set_value(["feature outlier"]).run()
    no_exception(again)
    kept = next(d.value for d in again.dataframe if "reason" in d.value.columns)
    assert set(kept["issue"]) == {"feature outlier"} and kept["reason"].iloc[0].startswith("floor = 4,000")


def test_error_slices_tab_computes_on_request_then_shows_the_kept_result(tmp_path: Path,
                                                                          monkeypatch) -> None:
    from core.split_slices import cached_split_evaluation
    from core.store import RunStore

    monkeypatch.setenv("LOUPE_HOME", str(tmp_path / "home"))
    (tmp_path / "home").mkdir()
    run_id = _rents_run(tmp_path / "home")
    at = open_page("runs", {"compare_ids": [run_id]})
    no_exception(at)
    assert cached_split_evaluation(run_id) is None  # nothing computed on opening the page
    next(b for b in at.button if b.label == "Find error slices on the test split").click().run(timeout=300)
    no_exception(at)
    evaluation = cached_split_evaluation(run_id)
    assert evaluation is not None and evaluation.rows > 0
    assert evaluation.metrics["rmse"] == pytest.approx(RunStore().get_run(run_id)["metrics"]["test_rmse"],
                                                       rel=1e-4)
    assert any(s.value == "How the model did on this test split" for s in at.subheader)
    if evaluation.slices:
        table = next(d.value for d in at.dataframe if "vs all rows" in d.value.columns)
        assert len(table) == len(evaluation.slices)
    again = open_page("runs", {"compare_ids": [run_id]})  # a new visit: the kept result, no click
    assert any(s.value == "How the model did on this test split" for s in again.subheader)
    again.radio(key=f"slices_split_{run_id}").set_value("val").run()
    no_exception(again)
    assert any(b.label == "Find error slices on the validation split" for b in again.button)


def test_fine_tuned_check_toggle_of_a_classifier_says_what_it_costs(tmp_path: Path, monkeypatch) -> None:
    import pandas as pd

    from core.store import RunStore
    from core.train import train
    from tests.core.test_datacheck_runs import flipped_reviews, reviews_config

    monkeypatch.setenv("LOUPE_HOME", str(tmp_path / "home"))
    texts, labels, _ = flipped_reviews(2)
    pd.DataFrame({"review": texts, "sentiment": labels}).to_csv(tmp_path / "reviews.csv", index=False)
    run_id = train(reviews_config(tmp_path / "reviews.csv"), RunStore()).run_id
    at = open_page("runs", {"compare_ids": [run_id]})
    at.toggle(key=f"datacheck_{run_id}_finetune").set_value(True).run()
    no_exception(at)
    assert any("5 trainings of this run's model, each about as long as its" in i.value for i in at.info)


def test_data_check_of_clean_data_says_nothing_was_flagged(trained: str) -> None:
    at = open_page("runs", {"compare_ids": [trained]})
    next(b for b in at.button if b.label == "Check this run's data").click().run(timeout=300)
    no_exception(at)
    assert any(m.value.startswith("Checked ") for m in at.markdown)
    assert not [d for d in at.dataframe if "reason" in d.value.columns]  # no empty table


def test_review_saves_a_version_retrains_and_compares(tmp_path: Path, monkeypatch) -> None:
    import time

    from core.datasets.edits import read_edits
    from core.store import RunStore

    monkeypatch.setenv("LOUPE_HOME", str(tmp_path / "home"))
    (tmp_path / "home").mkdir()
    run_id = _rents_run(tmp_path / "home")
    before = (tmp_path / "home" / "rents.csv").read_bytes()
    at = open_page("runs", {"compare_ids": [run_id]})
    next(b for b in at.button if b.label == "Check this run's data").click().run(timeout=300)
    at.selectbox(key=f"datacheck_{run_id}_bulk").set_value("exclude").run()
    no_exception(at)
    assert at.selectbox(key=f"datacheck_{run_id}_bulk").options == [
        "decide row by row", "keep every flagged example", "exclude every flagged example"]  # no classes
    next(b for b in at.button if b.label == "Save as a reviewed version").click().run(timeout=300)
    no_exception(at)
    assert any("Reviewed version saved" in s.value for s in at.success)
    version = at.session_state[f"datacheck_{run_id}_version"]
    flagged = set(at.session_state[f"datacheck_{run_id}_version"].edits.exclude)
    assert flagged and read_edits(version.path).exclude == flagged
    assert (tmp_path / "home" / "rents.csv").read_bytes() == before
    next(b for b in at.button if b.label == "Train on the reviewed version").click().run(timeout=120)
    no_exception(at)
    new_id = at.session_state[f"datacheck_{run_id}_retrained"]
    store = RunStore()
    for _ in range(240):
        if store.get_run(new_id)["status"] in ("completed", "failed", "interrupted"):
            break
        time.sleep(0.5)
    assert store.get_run(new_id)["status"] == "completed"
    assert store.config(new_id).data.edits == str(version.path)
    page = open_page("runs", {"compare_ids": [new_id, run_id]})
    no_exception(page)
    page.selectbox(key="runs_check_id").set_value(new_id).run()
    assert page.selectbox(key=f"datacheck_{new_id}_other").value == run_id
    next(b for b in page.button if b.label == "Compare test predictions").click().run(timeout=300)
    no_exception(page)
    diff = next(d.value for d in page.dataframe if {"metric", "change"} <= set(d.value.columns))
    assert "test_rmse" in set(diff["metric"])
    assert any("examples in both runs" in m.value for m in page.markdown)
