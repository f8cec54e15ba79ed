"""Named phases with their own progress, and an ETA only once it means something (issue 15)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from core.eta import MIN_STEPS, Remaining, RunClock
from core.phases import Phase, PhaseFile, phase, read_phase, reporting


def test_decoding_images_reports_n_of_m(tmp_path: Path) -> None:
    from core.datasets.images import load_folder

    rng = np.random.default_rng(0)
    for cls in ("cats", "dogs"):
        (tmp_path / cls).mkdir()
        for i in range(4):
            pixels = rng.integers(0, 255, (40, 50, 3), dtype=np.uint8)
            Image.fromarray(pixels).save(tmp_path / cls / f"{i}.jpg")
    seen: list[Phase] = []
    with reporting(seen.append):
        load_folder(tmp_path, 32, 0.25, 0.25, seed=0)
    decoding = [p for p in seen if p.name == "Decoding images"]
    assert [p.done for p in decoding] == list(range(0, 9)) and {p.total for p in decoding} == {8}
    assert decoding[4].label() == "Decoding images · 4 of 8 images"
    assert seen[0].name == "Finding images"


def test_tokenizing_reports_n_of_m(monkeypatch: pytest.MonkeyPatch) -> None:
    from core.models import text_models as tm
    from core.tasks import text

    monkeypatch.setattr(text, "TOKENIZE_CHUNK", 2)
    seen: list[Phase] = []
    with reporting(seen.append):
        ids, flags = text._tokenize(tm.load_tokenizer(tm.DEFAULT_MODEL), ["good", "bad", "fine"] * 2
                                    + ["a longer text that has to be cut " * 20], 16)
    assert [(p.done, p.total) for p in seen] == [(0, 7), (2, 7), (4, 7), (6, 7), (7, 7)]
    assert len(ids) == 7 and flags.tolist() == [False] * 6 + [True]


def test_no_listener_costs_nothing_and_the_file_round_trips(tmp_path: Path) -> None:
    tracker = phase("Decoding images", total=245, unit="images")  # nobody listens: no error
    tracker.update(3)
    sink = PhaseFile(tmp_path, every=3600)
    with reporting(sink):
        tracker = phase("Decoding images", total=245, unit="images")
        tracker.update(37)  # throttled: not written
        assert read_phase(tmp_path).done == 0
        phase("Building the model", eta_s=None)  # a new phase is written at once
    assert read_phase(tmp_path).name == "Building the model"
    (tmp_path / "phase.json").write_text("{broken")
    assert read_phase(tmp_path) is None
    gone = PhaseFile(tmp_path / "deleted-run")
    gone(Phase("Training"))  # a deleted run's folder is never re-created
    assert not (tmp_path / "deleted-run").exists()


def test_eta_is_hidden_until_enough_steps_and_includes_evaluation() -> None:
    clock = RunClock()
    left = Remaining(steps=100, eval_batches=10, saves=2)
    clock.step(30.0)  # the first step (allocation, warm-up) is not timed
    for _ in range(MIN_STEPS - 1):
        clock.step(1.0)
        assert clock.eta(left) is None
    clock.step(1.0)
    # 100 steps of 1 s, then 10 evaluation batches at EVAL_SHARE of a step until timed
    assert clock.eta(left) == pytest.approx(100 + 10 * 0.4)
    clock.evaluated(5, 1.0)
    clock.saved(3.0)
    assert clock.eta(left) == pytest.approx(100 + 10 * 0.2 + 2 * 3.0)
    assert clock.eta(Remaining(eval_batches=4)) == pytest.approx(0.8)


def test_a_training_names_every_phase(store, tmp_path: Path) -> None:
    from core.tasks import get_task
    from core.train import train

    cfg = get_task("tabular").default_config("diabetes").replace(
        data={"max_rows": 120}, train={"epochs": 2, "patience": 0, "batch_size": 128})
    seen: list[Phase] = []
    result = train(cfg, store, on_phase=seen.append)
    names = list(dict.fromkeys(p.name for p in seen))
    assert names[:2] == ["Reading data", "Building the model"]
    for name in ("Training · epoch 1 of 2", "Validating · epoch 1", "Training · epoch 2 of 2",
                 "Validating · epoch 2", "Saving the best model and a checkpoint",
                 "Final evaluation · train split", "Final evaluation · val split",
                 "Final evaluation · test split", "Writing the report"):
        assert name in names, (name, names)
    training = [p for p in seen if p.name.startswith("Training")]
    assert training[-1].done == training[-1].total  # N of M steps, to the end
    final = [p for p in seen if p.name == "Final evaluation · test split"]
    assert final[-1].done == final[-1].total >= 1
    assert read_phase(store.run_dir(result.run_id)).name == "Writing the report"
    assert store.get_run(result.run_id)["name"] == "diabetes-auto"  # data and model ("auto": the default)
    assert store.unique_name("diabetes-auto") == "diabetes-auto-2"  # the next one is told apart


def test_cli_names_each_phase_once_in_a_log_and_none_with_json(capsys: pytest.CaptureFixture[str]) -> None:
    from core.cli.output import progress_printer

    log = progress_printer(quiet=True)
    for done in (0, 10, 245):
        log.phase(Phase("Decoding images", done, 245, "images"))
    log.phase(Phase("Training · epoch 1 of 2", 0, 80, "steps"))
    log.phase(Phase("Training · epoch 2 of 2", 40, 80, "steps"))
    quiet = capsys.readouterr()
    assert quiet.out.splitlines() == ["Decoding images (245 images)…", "Training · epoch 1 of 2 (80 steps)…"]
    progress_printer(quiet=True, phases=False).phase(Phase("Decoding images", 1, 2, "images"))
    assert capsys.readouterr() == ("", "")  # --json: stdout is the JSON document, stderr the error
