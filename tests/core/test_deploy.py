"""Deploy (issue 21): ONNX / int8 ONNX round trips per kind, the REST endpoint under hostile
requests, and a deploy bundle served from a fresh process with no Loupe history.

Tolerances: an fp32 ONNX model matches the original within the kind's ``fp32_tolerance`` (max abs
difference of class probabilities; for regression, of predictions in units of the target's
standard deviation). int8 models are checked for being quantized for real (quantization nodes
in the graph) and for staying close: probabilities within 0.15, regression within 0.5 target
standard deviations (tiny, barely trained models; the MiniLM figures are in docs/benchmarks.md).
LightGBM tree models: the fp32 ONNX tree ensemble within ``TREE_TOLERANCE`` (1e-4) target standard
deviations of LightGBM's own predictions (float32 thresholds and leaves; measured about 3e-6), and
no int8 form (a clear error instead).

Cost: each run is trained on first use and each kind's deploy bundle is built once (``bundles``);
the round-trip test reads the bundle's comparison rows, so nothing is exported twice.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("onnxruntime")
pytest.importorskip("fastapi")

from core.deploy.bundle import compression_check  # noqa: E402
from core.deploy.compress import onnx_hook, onnx_predictor  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
KINDS = ("text", "image", "tabular")
EMAIL = "jane.doe@example.com"


@pytest.fixture(scope="module")
def runs(deploy_runs):  # noqa: ANN001, ANN201
    return deploy_runs  # tests/core/conftest.py: shared with test_portable_bundle


@pytest.fixture(scope="module")
def bundles(deploy_bundles):  # noqa: ANN001, ANN201
    return deploy_bundles


def _quantized_nodes(path: Path) -> int:
    import onnx

    ops = [n.op_type for n in onnx.load(str(path)).graph.node]
    return sum(op in ("DynamicQuantizeLinear", "QuantizeLinear", "MatMulInteger", "ConvInteger",
                      "DynamicQuantizeMatMul", "QLinearConv", "QLinearMatMul") for op in ops)


@pytest.mark.parametrize("kind", KINDS)
def test_round_trip_per_kind_and_format(runs, bundles, kind: str) -> None:  # noqa: ANN001
    store, ids = runs
    out, build = bundles(kind)
    rows = build.rows
    by = {(r["format"], r["split"]): r for r in rows}
    assert {f for f, _ in by} == {"original", "onnx", "onnx-int8"} and {s for _, s in by} == {"val", "test"}
    hook = onnx_hook(kind)
    scale = 1.0
    if by[("original", "test")]["metric"] == "rmse":  # regression: differences in target std units
        from core.tasks.tabular import read_preprocessor

        scale = read_preprocessor(store.artifact_path(ids[kind], "model")).target_std
    for split in ("val", "test"):
        fp32, int8 = by[("onnx", split)], by[("onnx-int8", split)]
        assert fp32["max_abs_diff"] <= hook.fp32_tolerance * scale, fp32
        assert fp32.get("agreement", 1.0) == 1.0
        assert int8["max_abs_diff"] <= (0.15 if "agreement" in int8 else 0.5 * scale), int8
        assert by[("original", split)]["change"] == 0.0
    timed = by[("onnx-int8", "test")]
    assert timed["latency_single_ms"] > 0 and timed["latency_batch_ms"] > 0 and timed["size_bytes"] > 0
    assert _quantized_nodes(out / "model.int8.onnx") > 0


# --- LightGBM tree models -----------------------------------------------------------------
def _hostile_rows(frame):  # noqa: ANN001, ANN202
    """Test rows plus missing numbers, missing and unseen categories, text in a number column."""
    import numpy as np

    rows = frame.head(20).copy()
    numeric = [c for c in rows.columns if rows[c].dtype.kind == "f"]
    text = [c for c in rows.columns if c not in numeric]
    rows.loc[rows.index[0], numeric[0]] = np.nan
    rows.loc[rows.index[1], text[0]] = None
    rows.loc[rows.index[2], text[0]] = "never seen in training"
    rows[numeric[1]] = rows[numeric[1]].astype(object)
    rows.loc[rows.index[3], numeric[1]] = "n/a"
    return rows


def test_tree_model_exports_to_onnx_within_tolerance_and_serves(runs, bundles) -> None:  # noqa: ANN001
    import numpy as np
    from fastapi.testclient import TestClient

    from core.deploy.server import create_app
    from core.deploy.service import service_for_bundle, service_for_run
    from core.errors import LoupeError
    from core.tasks import get_task
    from core.tasks.tabular import read_preprocessor
    from core.tasks.tabular_onnx import TREE_OPSET, TREE_TOLERANCE

    store, ids = runs
    run, model_dir = ids["trees"], store.artifact_path(ids["trees"], "model")
    assert json.loads((model_dir / "config.json").read_text())["architecture"] == "trees"
    out, build = bundles("trees")
    by = {(r["format"], r["split"]): r for r in build.rows}
    assert set(by) == {(f, s) for f in ("original", "onnx") for s in ("val", "test")}  # no int8 form
    std = read_preprocessor(model_dir).target_std
    for split in ("val", "test"):
        assert by[("onnx", split)]["max_abs_diff"] <= TREE_TOLERANCE * std, by[("onnx", split)]
        assert abs(by[("onnx", split)]["change"]) <= TREE_TOLERANCE * std
    with pytest.raises(LoupeError, match="no int8 form") as refused:
        compression_check(run, store, keep="onnx-int8")
    assert "--format onnx" in refused.value.fix
    with pytest.raises(LoupeError, match="no int8 form"):
        service_for_run(run, "onnx-int8", store)

    # the ONNX predictor reads cells as the LightGBM one does (missing, unseen, unreadable)
    data = get_task("tabular").load_data(store.config(run))
    hostile = _hostile_rows(data.raw["test"].drop(columns=["price"]))
    original = get_task("tabular").load_predictor(model_dir, "cpu").predict(hostile)
    served = service_for_run(run, "onnx", store)
    onnx = served.predictor.predict(hostile)
    np.testing.assert_allclose(onnx["prediction"], original["prediction"], rtol=0, atol=TREE_TOLERANCE * std)
    assert list(onnx["warning"].notna()) == list(original["warning"].notna())

    # the bundle: fp32 ONNX, the int8 refusal recorded, served by the endpoint
    deploy = json.loads((out / "deploy.json").read_text())
    assert deploy["opset"] == TREE_OPSET and "no int8 form" in deploy["format_notes"]["onnx-int8"]
    assert "No onnx-int8" in (out / "MODEL_CARD.md").read_text() and (out / "booster.txt").is_file()
    client = TestClient(create_app(service_for_bundle(out)))
    records = json.loads(hostile.head(4).to_json(orient="records"))
    got = client.post("/predict", json={"inputs": records})
    assert got.status_code == 200, got.text
    pred = [r["prediction"] for r in got.json()["predictions"]]
    np.testing.assert_allclose(pred, original["prediction"].head(4), rtol=0, atol=TREE_TOLERANCE * std)


def test_tree_onnx_undoes_a_log_target(runs, tmp_path: Path) -> None:  # noqa: ANN001
    """A booster fitted on log1p(target): the ONNX predictor returns expm1(score) like LightGBM's."""
    import shutil

    import lightgbm as lgb
    import numpy as np

    from core.deploy.compress import write_onnx
    from core.models.trees import TREE_COLUMNS_FILE, TreeColumns, TreeModel
    from core.tasks import get_task
    from core.tasks.tabular import read_preprocessor
    from core.tasks.tabular_onnx import TREE_TOLERANCE

    store, ids = runs
    folder = tmp_path / "log_model"
    shutil.copytree(store.artifact_path(ids["trees"], "model"), folder)
    columns = TreeColumns.from_dict({**json.loads((folder / TREE_COLUMNS_FILE).read_text()),
                                     "target_transform": "log1p"})
    train = get_task("tabular").load_data(store.config(ids["trees"])).raw
    dataset = lgb.Dataset(columns.transform(train["train"]),
                          label=columns.forward_target(train["train"]["price"]),
                          categorical_feature=columns.categorical_indices)
    booster = lgb.train({"objective": "regression", "verbosity": -1, "min_data_in_leaf": 5}, dataset,
                        num_boost_round=30)
    TreeModel(booster, columns).save(folder)
    original = get_task("tabular").load_predictor(folder, "cpu")
    written = write_onnx("tabular", original, tmp_path / "onnx", formats=["onnx"])
    rows = _hostile_rows(train["test"].drop(columns=["price"]))
    want = original.predict(rows)["prediction"].to_numpy()
    got = onnx_predictor("tabular", folder, written["onnx"]).predict(rows)["prediction"].to_numpy()
    assert want.min() > 1000  # prices, not log prices
    np.testing.assert_allclose(got, want, rtol=0, atol=TREE_TOLERANCE * read_preprocessor(folder).target_std)



def test_network_onnx_undoes_a_log_target(runs, tmp_path: Path) -> None:  # noqa: ANN001
    """A network fitted on a log-scale target: the ONNX model returns the scaled log value and the
    predictor undoes both (standardisation, then expm1), as for the torch model."""
    import shutil

    import numpy as np

    from core.deploy.compress import write_onnx
    from core.tasks import get_task

    store, ids = runs
    folder = tmp_path / "log_mlp"
    shutil.copytree(store.artifact_path(ids["tabular"], "model"), folder)
    prep = json.loads((folder / "preprocessing.json").read_text())
    prep.update(target_transform="log1p", target_mean=11.0, target_std=0.5)
    (folder / "preprocessing.json").write_text(json.dumps(prep))
    original = get_task("tabular").load_predictor(folder, "cpu")
    written = write_onnx("tabular", original, tmp_path / "onnx", formats=["onnx"])
    rows = get_task("tabular").load_data(store.config(ids["tabular"])).raw["test"]
    want = original.predict(rows)["prediction"].to_numpy()
    got = onnx_predictor("tabular", folder, written["onnx"]).predict(rows)["prediction"].to_numpy()
    assert want.min() > 1000  # expm1 of about 11 ± a few halves: prices, not log prices
    np.testing.assert_allclose(got, want, rtol=1e-4)


# --- the endpoint, in process ---------------------------------------------------------------
@pytest.fixture(scope="module")
def text_client(runs):  # noqa: ANN001, ANN201
    from fastapi.testclient import TestClient

    from core.deploy.server import create_app
    from core.deploy.service import service_for_run

    store, ids = runs
    return TestClient(create_app(service_for_run(ids["text"], "onnx", store), max_body=50_000))


def _assert_4xx(response, status: int, *words: str) -> None:  # noqa: ANN001
    assert response.status_code == status, response.text
    detail = response.json()["detail"]
    for word in words:
        assert word in detail, (word, detail)


def test_hostile_requests_get_clear_4xx_and_the_server_stays_up(text_client) -> None:  # noqa: ANN001
    c = text_client
    _assert_4xx(c.post("/predict", json={"input": 5}), 422, "input", "text")
    _assert_4xx(c.post("/predict", json={"inputs": ["fine", {"a": 1}]}), 422, "inputs[1]")
    _assert_4xx(c.post("/predict", json={}), 422, "'input'", "'inputs'")
    _assert_4xx(c.post("/predict", json={"inputs": []}), 422, "'inputs'")
    _assert_4xx(c.post("/predict", json={"inputs": ["x"] * 300}), 422, "300", "limit")
    _assert_4xx(c.post("/predict", json=["a list"]), 422, "JSON object")
    _assert_4xx(c.post("/predict", content=b'{"input": "caf\xe9"}',
                       headers={"content-type": "application/json"}), 400, "UTF-8")
    _assert_4xx(c.post("/predict", content=b'{"input": ', headers={"content-type": "application/json"}),
                400, "not JSON")
    _assert_4xx(c.post("/predict", json={"input": "y" * 60_000}), 413, "bytes")
    _assert_4xx(c.post("/explain", json={"method": "shap"}), 422, "'input'")
    assert c.get("/health").json()["status"] == "ok"
    one = c.post("/predict", json={"input": f"great phone, write to {EMAIL}"})
    assert one.status_code == 200, one.text
    assert EMAIL not in one.text and "prediction" in one.json()["prediction"]
    many = c.post("/predict", json={"inputs": ["great", "awful"]}).json()["predictions"]
    assert len(many) == 2 and all(0 <= r["confidence"] <= 1 for r in many)
    schema = c.get("/openapi.json").json()
    assert {"/predict", "/explain", "/health", "/metadata"} <= set(schema["paths"])
    meta = c.get("/metadata").json()
    assert meta["task"] == "text" and meta["format"] == "onnx" and "model_card" in meta


def test_tabular_endpoint_names_bad_columns_and_explains_cached(runs) -> None:  # noqa: ANN001
    from fastapi.testclient import TestClient

    from core.deploy.server import create_app
    from core.deploy.service import service_for_run

    store, ids = runs
    service = service_for_run(ids["tabular"], "original", store)
    c = TestClient(create_app(service))
    example = service.metadata["request_example"]
    column = next(iter(example))
    _assert_4xx(c.post("/predict", json={"input": {**example, column: [1, 2]}}), 422, f"input.{column}")
    missing = {k: v for k, v in example.items() if k != column}
    _assert_4xx(c.post("/predict", json={"input": missing}), 422, column)
    _assert_4xx(c.post("/predict", json={"input": "not a row"}), 422, "input", "object")
    ok = c.post("/predict", json={"inputs": [example, example]})
    assert ok.status_code == 200 and len(ok.json()["predictions"]) == 2
    first = c.post("/explain", json={"input": example})
    assert first.status_code == 200, first.text
    assert first.json()["attributions"] and first.json()["from_cache"] is False
    assert c.post("/explain", json={"input": example}).json()["from_cache"] is True


# --- the portable bundle, served from a fresh process ---------------------------------------
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_bundle_serves_in_a_fresh_process_without_history(bundles, tmp_path: Path) -> None:  # noqa: ANN001
    import httpx

    out, build = bundles("text")
    names = {p.name for p in out.iterdir()}
    assert {"model.int8.onnx", "deploy.json", "requirements.txt", "MODEL_CARD.md"} <= names
    assert "## Compressed formats" in (out / "MODEL_CARD.md").read_text()
    assert "onnxruntime" in (out / "requirements.txt").read_text()
    expected = onnx_predictor("text", out, out / "model.int8.onnx").predict(["good", "bad"])
    empty_home = tmp_path / "no_history"
    port = _free_port()
    env = {**os.environ, "LOUPE_HOME": str(empty_home), "HF_HUB_OFFLINE": "1"}
    cache = tmp_path / "explain_cache"
    proc = subprocess.Popen([sys.executable, "-m", "core.cli", "serve-model", "--bundle", str(out),
                             "--port", str(port), "--explain-cache", str(cache)], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(240):
            assert proc.poll() is None, proc.stderr.read().decode()[-3000:]
            try:
                if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.5)
        got = httpx.post(f"{base}/predict", json={"inputs": ["good", "bad"]}, timeout=30).json()
        assert [r["prediction"] for r in got["predictions"]] == list(expected["prediction"])
        assert httpx.post(f"{base}/predict", content=b"\xff", timeout=30).status_code == 400
        text = f"good, mail {EMAIL}"  # attention: the quick method (SHAP runs the model ~500 times)
        first = httpx.post(f"{base}/explain", json={"input": text, "method": "attention"},
                           timeout=120)
        assert first.status_code == 200, first.text
        assert EMAIL not in first.text and first.json()["attributions"] and not first.json()["from_cache"]
        assert any("original model in the bundle" in n for n in first.json()["notices"])
        again = httpx.post(f"{base}/explain", json={"input": text, "method": "attention"},
                           timeout=120)
        assert again.json()["from_cache"] is True
        bad = httpx.post(f"{base}/explain", json={"input": "good", "method": "nope"}, timeout=30)
        assert bad.status_code == 422 and "nope" in bad.json()["detail"]
        meta = httpx.get(f"{base}/metadata", timeout=30).json()
        assert meta["format"] == "onnx-int8" and meta["comparison"]
        assert httpx.get(f"{base}/docs", timeout=30).status_code == 200
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    assert not (empty_home / "loupe.duckdb").exists() and (cache / "explanations.duckdb").is_file()
    json.loads((out / "deploy.json").read_text())  # still a readable bundle afterwards


def test_tabular_bundle_explains_with_its_own_model_folder(bundles, tmp_path: Path,  # noqa: ANN001
                                                           loupe_home: Path) -> None:
    from fastapi.testclient import TestClient

    from core.deploy.server import create_app
    from core.deploy.service import service_for_bundle
    from core.explain.tabular import REFERENCE_NOTICE

    for kind in ("tabular", "trees"):  # the network (SHAP, reference row) and the trees (TreeSHAP)
        out, _ = bundles(kind)
        service = service_for_bundle(out, explain_cache=tmp_path / f"cache_{kind}")
        c = TestClient(create_app(service))
        example = service.metadata["request_example"]
        first = c.post("/explain", json={"input": example})
        assert first.status_code == 200, first.text
        body = first.json()
        assert body["attributions"] and body["from_cache"] is False
        assert {r["feature"] for r in body["attributions"]} == set(example)
        assert (REFERENCE_NOTICE in body["notices"]) == (kind == "tabular")
        assert c.post("/explain", json={"input": example}).json()["from_cache"] is True
        refused = c.post("/explain", json={"input": example, "method": "shap_global"})
        assert refused.status_code == 422 and "carries none" in refused.json()["detail"]
        hostile = c.post("/explain", json={"input": {**example, next(iter(example)): [1]}})
        assert hostile.status_code == 422
    assert not (loupe_home / "loupe.duckdb").exists()  # nothing written to a Loupe history


def test_explain_folder_text_shap_is_masked_and_cached(bundles, tmp_path: Path) -> None:  # noqa: ANN001
    import numpy as np

    from core.explain import explain_folder

    out, _ = bundles("text")
    text = f"great phone, write to {EMAIL}"
    first = explain_folder(out, "text", text, cache_dir=tmp_path, max_evals=40)
    assert not first.from_cache and first.tokens and EMAIL not in " ".join(first.tokens)
    assert np.isfinite(first.values).all()
    again = explain_folder(out, "text", text, cache_dir=tmp_path, max_evals=40)
    assert again.from_cache and again.tokens == first.tokens


def test_cli_export_onnx_bundle_prints_the_check(runs, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,  # noqa: ANN001
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    from core.cli import main

    store, ids = runs
    monkeypatch.setenv("LOUPE_HOME", str(store.home))
    assert main(["export", ids["tabular"], "--format", "onnx", "--out", str(tmp_path / "b")]) == 0
    printed = capsys.readouterr().out
    assert "## Compressed formats" in printed and "serve-model --bundle" in printed
    assert (tmp_path / "b" / "model.onnx").is_file() and not (tmp_path / "b" / "model.int8.onnx").exists()
    assert main(["export", ids["tabular"], "--format", "onnx", "--out", str(tmp_path / "b.zip")]) == 2
    assert "folder, not a zip" in capsys.readouterr().err
    assert not (tmp_path / "b.zip").exists()
    assert main(["export", ids["trees"], "--format", "onnx-int8", "--out", str(tmp_path / "t")]) == 2
    err = capsys.readouterr().err
    assert "no int8 form" in err and "--format onnx" in err and not (tmp_path / "t").exists()
