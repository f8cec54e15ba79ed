"""Text LP-FT: the head starts from a linear probe, the probe is scored as epoch 0 and kept unless
a trained epoch beats it, and epochs/warm-up follow the dataset size while left at the defaults.

Tiny on purpose: a hundred generated reviews, 32 tokens, one short epoch (about half a minute).
"""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # before transformers is imported: never reach a hub

import json

import numpy as np
import pytest
import torch

from core.tasks import get_task
from core.tasks.text import AUTO_EPOCHS, TextTask

ROWS, MAX_LENGTH = 100, 32


@pytest.fixture(autouse=True)
def _one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def tiny_config(**train: object):
    return TextTask().default_config("reviews").replace(
        data={"max_rows": ROWS, "val_fraction": 0.3, "test_fraction": 0.2},
        model={"max_length": MAX_LENGTH},
        train={"batch_size": 16, "epochs": 1, "lr": 3e-4, "device": "cpu", **train},
    )


@pytest.fixture(scope="module")
def probe_run(tmp_path_factory):
    """One tiny LP-FT training (1 epoch), shared by the assertions below."""
    home = tmp_path_factory.mktemp("home")
    mp = pytest.MonkeyPatch()
    mp.setenv("LOUPE_HOME", str(home))
    from core.store import RunStore
    from core.train import train

    store = RunStore()
    result = train(tiny_config(), store)
    yield store, result
    mp.undo()


@pytest.mark.slow
def test_probe_start_never_makes_the_first_epoch_worse(probe_run):
    store, result = probe_run
    assert result.status == "completed"
    m = result.metrics
    probe, kept = m["start_val_macro_f1"], m["val_macro_f1"]
    assert kept >= probe - 1e-9, m  # the kept model is never below the probe on validation
    val = store.curves(result.run_id, ["macro_f1"])
    val = val[val["split"] == "val"].sort_values("step")
    assert val["step"].tolist()[0] == 0 and val["epoch"].tolist()[0] == 0  # the probe, epoch 0
    assert val["value"].tolist()[0] == pytest.approx(probe)
    assert kept == pytest.approx(val["value"].max())  # the best epoch by the monitor is kept
    report = json.loads((store.run_dir(result.run_id) / "report.json").read_text())
    assert report["kept_epoch"] in (0, 1)
    said = [n for n in report["notices"] if "linear probe on validation" in n]
    assert len(said) == 1
    assert ("kept the linear probe" in said[0]) == (report["kept_epoch"] == 0)


@pytest.mark.slow
def test_reloaded_artifact_predicts_what_the_run_validated(probe_run):
    store, result = probe_run
    task = TextTask()
    data = task.load_data(tiny_config())
    probs = task.load_predictor(result.artifact_dir, device="cpu").predict_proba(data.val.texts)
    accuracy = float((probs.argmax(axis=1) == data.val.labels).mean())
    assert accuracy == pytest.approx(result.metrics["val_accuracy"], abs=1e-9)


def test_probe_head_beats_a_random_head():
    """The fitted head alone (no training step) separates the training texts."""
    task, cfg = TextTask(), tiny_config()
    data = task.load_data(cfg)
    model = task.build_model(cfg, data).eval()
    batch = data.collate_fn([data.train[i] for i in range(len(data.train))])
    with torch.no_grad():
        logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
    accuracy = float((logits.argmax(1).numpy() == data.train.labels).mean())
    assert accuracy >= 0.8
    assert any("linear probe" in n for n in data.notices)


def test_schedule_follows_dataset_size_only_at_the_defaults():
    task = get_task("text")
    cfg = task.default_config().replace(data={"source": "sample:reviews", "max_rows": 200},
                                        model={"max_length": MAX_LENGTH})
    data = task.load_data(cfg)
    planned = task.plan(cfg, data)
    assert planned.train.epochs == AUTO_EPOCHS[1]  # 140 training texts: the most epochs
    assert 0 < planned.train.warmup_ratio <= 0.1
    assert any("Automatic schedule" in n and str(AUTO_EPOCHS[1]) in n for n in data.notices)
    mine = cfg.replace(train={"epochs": 2})
    assert task.plan(mine, task.load_data(mine)) == mine  # the user chose: untouched
    assert task.plan(planned, data) == planned  # a resume plans the same run again


def test_big_data_keeps_the_fewest_epochs():
    task = get_task("text")
    cfg = task.default_config().replace(data={"source": "sample:reviews"},
                                        model={"max_length": MAX_LENGTH})
    data = task.load_data(cfg)  # 2,100 training texts
    planned = task.plan(cfg, data)
    assert planned.train.epochs == max(AUTO_EPOCHS[0], int(np.ceil(5000 / len(data.train))))


def test_a_queued_run_records_the_settings_it_trains_with(store):
    """The dashboard queues a run with the form's config; the trainer records the planned one."""
    cfg = get_task("text").default_config().replace(name="mine", tags=["a"])
    run_id = store.create_run(cfg)
    store.set_train_settings(run_id, {"epochs": 7, "warmup_ratio": 0.05})
    stored = store.config(run_id)
    assert (stored.train.epochs, stored.train.warmup_ratio) == (7, 0.05)
    assert (stored.data, stored.model, stored.train.lr) == (cfg.data, cfg.model, cfg.train.lr)
    assert stored.name == "mine" and stored.tags == ("a",)
