"""Micro-batching of concurrent /predict requests (core.deploy.batching): grouping, isolation of
a bad request, one at a time by default, and with a real model, answers identical to
one-at-a-time predictions."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pandas as pd
import pytest

from core.deploy.batching import Batcher


class _Recorder:
    """A predict function that scores texts by length (or rows by their 'x'), records each call
    and can be held at its first call, so requests pile up behind it."""

    def __init__(self) -> None:
        self.calls: list[list] = []
        self.hold = threading.Event()
        self.entered = threading.Event()

    def __call__(self, batch):  # noqa: ANN001, ANN204
        items = batch.to_dict("records") if isinstance(batch, pd.DataFrame) else list(batch)
        self.calls.append(items)
        self.entered.set()
        self.hold.wait(10)
        if any(item == "bad" for item in items):
            raise ValueError("a bad input")
        if isinstance(batch, pd.DataFrame):
            return pd.DataFrame({"y": batch["x"] * 2})
        return pd.DataFrame({"text": items, "length": [len(t) for t in items]})


def _rows(future) -> list[dict]:  # noqa: ANN001
    return future.result(10).to_dict("records")


def _pile_up(recorder: _Recorder, batcher: Batcher, requests: list[list]) -> list:
    """Hold the worker on a first call, queue ``requests`` behind it, release; their futures."""
    first = batcher.submit(["first"])
    assert recorder.entered.wait(10)
    futures = [batcher.submit(r) for r in requests]
    while batcher.waiting.qsize() < len(requests):
        threading.Event().wait(0.01)
    recorder.hold.set()
    assert _rows(first) == [{"text": "first", "length": 5}]
    return futures


def test_waiting_requests_share_one_call_and_get_their_own_rows() -> None:
    recorder = _Recorder()
    batcher = Batcher(recorder, max_items=64)
    futures = _pile_up(recorder, batcher, [["a"], ["bb", "ccc"], ["dddd"]])
    assert [_rows(f) for f in futures] == [
        [{"text": "a", "length": 1}],
        [{"text": "bb", "length": 2}, {"text": "ccc", "length": 3}],
        [{"text": "dddd", "length": 4}],
    ]
    assert recorder.calls == [["first"], ["a", "bb", "ccc", "dddd"]]
    assert batcher.calls == 2


def test_a_lone_request_is_served_at_once_and_alone() -> None:
    recorder = _Recorder()
    recorder.hold.set()
    batcher = Batcher(recorder, max_items=64)
    assert batcher(["solo"]).to_dict("records") == [{"text": "solo", "length": 4}]
    assert recorder.calls == [["solo"]]


def test_table_rows_with_other_columns_and_texts_are_never_mixed() -> None:
    recorder = _Recorder()
    batcher = Batcher(recorder, max_items=64)
    futures = _pile_up(recorder, batcher, [[{"x": 1}], [{"x": 2, "z": 0}], [{"x": 3}], ["t"]])
    assert [_rows(f) for f in futures] == [[{"y": 2}], [{"y": 4}], [{"y": 6}],
                                               [{"text": "t", "length": 1}]]
    assert recorder.calls[1:] == [[{"x": 1}, {"x": 3}], [{"x": 2, "z": 0}], ["t"]]


def test_a_bad_request_fails_alone_and_the_others_are_answered() -> None:
    recorder = _Recorder()
    batcher = Batcher(recorder, max_items=64)
    futures = _pile_up(recorder, batcher, [["ok"], ["bad"], ["fine"]])
    assert _rows(futures[0]) == [{"text": "ok", "length": 2}]
    with pytest.raises(ValueError, match="a bad input"):
        futures[1].result(10)
    assert _rows(futures[2]) == [{"text": "fine", "length": 4}]
    assert recorder.calls[1:] == [["ok", "bad", "fine"], ["ok"], ["bad"], ["fine"]]


def test_groups_stop_at_max_items() -> None:
    recorder = _Recorder()
    batcher = Batcher(recorder, max_items=3)
    futures = _pile_up(recorder, batcher, [["a", "b"], ["c"], ["d", "e"], ["f"]])
    assert [len(f.result(10)) for f in futures] == [2, 1, 2, 1]
    assert recorder.calls[1:] == [["a", "b", "c"], ["d", "e", "f"]]


def test_by_default_requests_go_one_at_a_time_in_order() -> None:
    recorder = _Recorder()
    batcher = Batcher(recorder)
    futures = _pile_up(recorder, batcher, [["a"], ["bb", "ccc"], ["dddd"]])
    assert [len(_rows(f)) for f in futures] == [1, 2, 1]
    assert recorder.calls[1:] == [["a"], ["bb", "ccc"], ["dddd"]]


def test_concurrent_requests_to_a_real_model_match_one_at_a_time(tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    from core.deploy.service import answer_rows, service_for_run
    from core.store import RunStore
    from tests.core.test_explain_fixtures import text_run, tiny_text_model

    monkeypatch.setenv("LOUPE_HOME", str(tmp_path))
    store = RunStore(tmp_path / "loupe.duckdb")
    service = service_for_run(text_run(store, tiny_text_model(tmp_path / "tiny-bert")), store=store,
                              max_batch=64)
    texts = [f"Review {i}: {'great' if i % 2 else 'dull'} film, wrote jane.doe{i}@example.com"
             for i in range(24)]
    alone = [answer_rows(service.predictor.predict([t])) for t in texts]
    with ThreadPoolExecutor(12) as pool:
        together = list(pool.map(lambda t: service.predict([t]), texts))
    for one, other in zip(alone, together, strict=True):
        assert one[0].keys() == other[0].keys()
        assert one[0]["text"] == other[0]["text"] and "@example.com" not in one[0]["text"]
        assert one[0]["prediction"] == other[0]["prediction"]
        assert one[0]["confidence"] == pytest.approx(other[0]["confidence"], abs=1e-5)
    assert service.batcher.calls <= len(texts)


def test_serve_model_refuses_a_max_batch_out_of_range(capsys: pytest.CaptureFixture) -> None:
    from core.cli import main

    assert main(["serve-model", "anyrun", "--max-batch", "0"]) == 2
    assert "--max-batch 0 is out of range" in capsys.readouterr().err
