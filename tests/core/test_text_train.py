"""End-to-end text training: a tiny run on the sample beats chance, in one process and in two.

Tiny on purpose (a few hundred rows, max_length 32, a dozen optimizer steps that fit in one epoch),
so each test is about a minute on a 2-core CPU. The higher learning rate makes a dozen steps
enough to learn the generated reviews; it is not the default.
"""

from __future__ import annotations

import json
import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # before transformers is imported: never reach a hub

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from core.tasks.text import TextTask

ROOT = Path(__file__).resolve().parents[2]
TINY = {"rows": 280, "max_length": 32, "batch_size": 16, "steps": 12, "lr": 3e-4}


@pytest.fixture(autouse=True)
def _one_thread():
    """One intra-op thread: on a shared 2-core runner extra OpenMP threads mostly wait."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def tiny_config(**train: object):
    return TextTask().default_config("reviews").replace(
        data={"max_rows": TINY["rows"], "val_fraction": 0.1, "test_fraction": 0.2},
        model={"max_length": TINY["max_length"]},
        train={"batch_size": TINY["batch_size"], "max_steps": TINY["steps"], "lr": TINY["lr"],
               "epochs": 1, "device": "cpu", **train},
    )


def recomputed_test_accuracy(artifact: Path, cfg) -> tuple[float, int]:  # noqa: ANN001
    """Accuracy of the saved artifact on the run's test split, via the prediction path."""
    task = TextTask()
    data = task.load_data(cfg)
    predictor = task.load_predictor(artifact, device="cpu")
    probs = predictor.predict_proba(data.test.texts)
    return float((probs.argmax(axis=1) == data.test.labels).mean()), len(data.test)


@pytest.mark.slow
def test_tiny_training_beats_chance(tmp_path, monkeypatch):
    monkeypatch.setenv("LOUPE_HOME", str(tmp_path / "home"))
    from core.store import RunStore
    from core.train import train

    cfg = tiny_config()
    store = RunStore()
    result = train(cfg, store)
    assert result.status == "completed"
    m = result.metrics
    assert m["test_accuracy"] >= 0.75 and m["test_roc_auc"] >= 0.85, m
    assert {"val_macro_f1", "test_f1_positive", "test_precision_negative"} <= set(m)
    report = json.loads((store.run_dir(result.run_id) / "report.json").read_text())
    assert sum(map(sum, report["confusion_matrix"]["matrix"])) == len(TextTask().load_data(cfg).test)
    assert any("Sampled" in n for n in report["notices"])
    figures = store.system(result.run_id)
    assert figures["tokens_per_s"] > 0 and figures["samples_per_s"] > 0
    accuracy, _ = recomputed_test_accuracy(result.artifact_dir, cfg)
    assert accuracy == pytest.approx(m["test_accuracy"], abs=1e-9)
    predictions = TextTask().load_predictor(result.artifact_dir, "cpu").predict(
        ["I love it, five stars.", "Worst purchase ever. I want a refund."])
    assert predictions["prediction"].tolist() == ["positive", "negative"]


@pytest.mark.slow
def test_two_processes_make_one_run(tmp_path):
    """torchrun with 2 CPU processes (gloo): one run, one artifact, metrics over every sample."""
    home = tmp_path / "home"
    env = {**os.environ, "LOUPE_HOME": str(home), "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1",
           "TOKENIZERS_PARALLELISM": "false", "PYTHONPATH": str(ROOT)}
    command = [
        sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
        "-m", "core.cli", "train", "text", "--data", "sample:reviews", "--quiet", "--json",
        "--max-rows", str(TINY["rows"]), "--max-length", str(TINY["max_length"]),
        "--batch-size", str(TINY["batch_size"] // 2), "--max-steps", str(TINY["steps"]),
        "--lr", str(TINY["lr"]), "--epochs", "1", "--device", "cpu",
    ]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]

    os.environ["LOUPE_HOME"] = str(home)
    try:
        from core.store import RunStore

        store = RunStore()
        runs = store.list_runs()
        assert len(runs) == 1
        run = store.get_run(runs["id"][0])
        assert run["status"] == "completed"
        artifacts = store.artifacts(run["id"])
        assert (artifacts["kind"] == "model").sum() == 1
        assert len(list((home / "runs").iterdir())) == 1
        metrics, cfg = run["metrics"], store.config(run["id"])
        accuracy, _ = recomputed_test_accuracy(store.artifact_path(run["id"], "model"), cfg)
        assert accuracy == pytest.approx(metrics["test_accuracy"], abs=1e-9)
        assert metrics["test_accuracy"] >= 0.7, metrics
        curve = store.curves(run["id"])
        val_points = curve[(curve["split"] == "val") & (curve["name"] == "accuracy")]
        assert (val_points["epoch"] == 0).sum() == 1  # the linear probe, scored before training
        val_points = val_points[val_points["epoch"] > 0]
        assert len(val_points) == 1  # one epoch, logged by the main process only
        # gathered across both ranks with no duplicated or dropped samples: a whole count
        correct = float(val_points["value"].iloc[0]) * len(TextTask().load_data(cfg).val)
        assert abs(correct - np.round(correct)) < 1e-6
        assert store.system(run["id"])["processes"] == 2
    finally:
        os.environ.pop("LOUPE_HOME", None)
