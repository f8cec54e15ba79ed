"""Text models, batching and prediction: offline loading, freezing, padding, length grouping,
and an artifact that predicts exactly what the in-memory model predicted."""

from __future__ import annotations

import json
import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # before transformers is imported: never reach a hub

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from core.config import RunConfig
from core.errors import LoupeError
from core.models import text_models as tm
from core.runtime import inference_runtime
from core.tasks.text import TextPredictor, TextTask


@pytest.fixture(autouse=True)
def _home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOUPE_HOME", str(tmp_path / "home"))


@pytest.fixture(scope="module")
def small():
    """Prepared data for 80 sample reviews and a fresh (untrained) classifier on top."""
    task = TextTask()
    cfg = RunConfig.from_dict({"task": "text", "data": {"source": "sample:reviews",
                                                         "max_rows": 80},
                               "model": {"max_length": 48}})
    data = task.load_data(cfg)
    torch.manual_seed(0)
    return task, cfg, data, task.build_model(cfg, data)


def test_packaged_minilm_is_found():
    folder = tm.packaged_minilm_dir()
    assert (folder / "config.json").is_file() and (folder / "tokenizer.json").is_file()
    assert tm.resolve_model_source("") == str(folder) == tm.resolve_model_source("minilm")


def test_offline_unknown_hub_id_says_how_to_fix(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))  # an empty cache
    with pytest.raises(LoupeError) as info:
        tm.build_classifier("some-org/not-cached-model", ["a", "b"])
    message = str(info.value)
    assert "not in the local Hugging Face cache" in message and "local folder" in message


def test_missing_local_folder():
    with pytest.raises(LoupeError, match="does not exist"):
        tm.resolve_model_source("./no/such/model")


def test_folder_without_config(tmp_path):
    with pytest.raises(LoupeError, match="config.json"):
        tm.resolve_model_source(str(tmp_path))


def test_freeze_backbone_trains_only_the_head():
    model = tm.build_classifier("", ["neg", "pos"], freeze_backbone=True)
    trainable = {n for n, p in model.named_parameters() if p.requires_grad}
    assert trainable == {"classifier.weight", "classifier.bias"}
    assert model.config.id2label == {0: "neg", 1: "pos"}


def test_encode_texts_truncates_huge_texts_quickly():
    tokenizer = tm.load_tokenizer("")
    ids, truncated = tm.encode_texts(tokenizer, ["short one", "word " * 100_000, "x" * 100_000], 32)
    assert [len(i) <= 32 for i in ids] == [True, True, True]
    assert truncated.tolist() == [False, True, True]
    assert ids[1][-1] == tokenizer.sep_token_id  # truncation keeps the closing special token


def test_collator_pads_to_the_longest_in_the_batch():
    batch = tm.PadCollator(pad_id=0)([{"input_ids": [5, 6, 7], "labels": 1},
                                       {"input_ids": [5], "labels": 0}])
    assert batch["input_ids"].tolist() == [[5, 6, 7], [5, 0, 0]]
    assert batch["attention_mask"].tolist() == [[1, 1, 1], [1, 0, 0]]
    assert batch["labels"].tolist() == [1, 0]


def test_length_grouped_sampler():
    lengths = np.random.default_rng(0).integers(5, 200, size=1000)
    factory = tm.LengthGroupedSamplerFactory(tuple(lengths.tolist()))
    batches = list(factory(16, 3, 0))
    flat = sorted(i for b in batches for i in b)
    assert flat == list(range(1000)) and len(batches) == len(factory(16, 3, 0))
    assert batches == list(factory(16, 3, 0))  # same seed and epoch → same batches everywhere
    assert batches != list(factory(16, 3, 1))  # reshuffled each epoch
    assert lengths[batches[0]].max() == lengths.max()  # longest batch first
    spread = np.mean([np.ptp(lengths[b]) for b in batches])
    assert spread < 0.2 * np.ptp(lengths)  # far less padding than random batches


def test_forward_and_metrics(small):
    task, _, data, model = small
    batch = data.collate_fn([data.train[i] for i in range(8)])
    loss, logits = task.forward(model, batch)
    assert logits.shape == (8, 2) and torch.isfinite(loss)
    scores = task.metrics(logits.detach().numpy(), batch["labels"].numpy(), data)
    assert {"accuracy", "macro_f1", "f1_positive", "precision_negative", "recall_positive",
            "roc_auc"} <= set(scores)
    assert task.count(batch)["tokens"] == int(batch["attention_mask"].sum())


def test_reloaded_artifact_predicts_identically(small, tmp_path):
    task, cfg, data, model = small
    task.save_artifact(model, cfg, data, tmp_path / "model")
    files = {p.name for p in (tmp_path / "model").iterdir()}
    assert {"model.safetensors", "config.json", "tokenizer.json", "label_map.json",
            "loupe_text.json"} <= files
    assert not any(name.endswith((".bin", ".pt", ".pkl")) for name in files)
    texts = ["Great blender, five stars.", "word " * 3000, "Terrible. I want a refund.",
             "Contact me at jane.doe@example.com about this awful lamp."] * 5
    live = TextPredictor(model, tm.load_tokenizer(""), {"labels": data.meta["labels"],
                                                         "max_length": 48}, inference_runtime("cpu"))
    reloaded = task.load_predictor(tmp_path / "model", device="cpu")
    a, b = live.predict(texts, batch_size=6), reloaded.predict(texts, batch_size=6)
    pd.testing.assert_frame_equal(a, b)
    assert list(b.columns) == ["text", "prediction", "confidence", "p_negative", "p_positive"]
    assert "jane.doe@example.com" not in " ".join(b["text"])
    # input order is restored after length-sorted batching
    one_by_one = np.vstack([reloaded.predict_proba([t]) for t in texts[:4]])
    np.testing.assert_allclose(b[["p_negative", "p_positive"]].to_numpy()[:4], one_by_one,
                               atol=1e-5)
    assert reloaded.predict("Lovely.").shape[0] == 1 and reloaded.predict([]).empty
    fresh = task.build_model(cfg, data)
    task.load_weights(fresh, tmp_path / "model")
    for p, q in zip(fresh.state_dict().values(), model.state_dict().values(), strict=True):
        assert torch.equal(p, q)


def test_eager_attention_helper(small, tmp_path):
    task, cfg, data, model = small
    task.save_artifact(model, cfg, data, tmp_path / "m")
    eager = tm.load_for_attention(tmp_path / "m")
    ids = torch.tensor([[101, 2307, 102]])
    out = eager(input_ids=ids, output_attentions=True)
    assert len(out.attentions) == 6 and out.attentions[0].shape[-1] == 3


def test_report_masks_texts_and_counts(small):
    task, _, data, _ = small
    n = len(data.val)
    true = np.asarray(data.val.labels)
    logits = np.zeros((n, 2))
    logits[np.arange(n), 1 - true] = 3.0  # confidently wrong everywhere
    data.val.texts[0] = "Email bob.smith@example.org, " + data.val.texts[0]
    outputs = {"val": logits, "test": np.zeros((len(data.test), 2))}
    targets = {"val": true, "test": np.asarray(data.test.labels)}
    report = task.report(None, data, outputs, targets)
    json.dumps(report)
    assert report["confusion_matrix"]["labels"] == ["negative", "positive"]
    assert len(report["worst_val_examples"]) == min(10, n)
    assert all("bob.smith@example.org" not in w["text"] for w in report["worst_val_examples"])
    assert {"max_length", "train", "val", "test", "total"} <= set(report["truncation"])
    assert [row["label"] for row in report["per_class"]] == ["negative", "positive"]


def test_load_inputs(small, tmp_path):
    task, cfg, data, model = small
    predictor = TextPredictor(model, tm.load_tokenizer(""), {**data.meta}, inference_runtime("cpu"))
    txt = tmp_path / "in.txt"
    txt.write_text("good\n\nbad\n")
    assert predictor.load_inputs(txt) == ["good", "bad"]
    csv = tmp_path / "in.csv"
    pd.DataFrame({"id": [1, 2], "text": ["fine product", "broken"]}).to_csv(csv, index=False)
    assert predictor.load_inputs(csv) == ["fine product", "broken"]
    with pytest.raises(LoupeError):
        predictor.predict([1, 2])
