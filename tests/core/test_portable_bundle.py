"""Issue 21 item 4: a deploy bundle serves itself with its runtime packages only.

Each kind's bundle is started as ``python serve.py`` in a fresh process, from a folder outside the
checkout, where torch, transformers, LightGBM, Streamlit, DuckDB (``BLOCKED``) cannot be imported
and the editable Loupe install is taken off the import path: only the bundle's ``runtime/`` copy
of Loupe's code is there. Its answers must equal Loupe's own ONNX predictor on the same bundle
(same labels; probabilities and regression outputs within 1e-5), texts come back masked, bad
requests get the same 4xx as ``loupe serve-model``, and ``/explain`` says it needs Loupe (501).
"""

from __future__ import annotations

import base64
import io
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("onnxruntime")
pytest.importorskip("fastapi")
httpx = pytest.importorskip("httpx")

from core.deploy.compress import onnx_predictor  # noqa: E402
from core.deploy.portable import BLOCKED, read_deploy  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
EMAIL = "jane.doe@example.com"
DRIVER = """
import runpy, sys
from pathlib import Path
for name in {blocked!r}:
    sys.modules[name] = None
sys.meta_path[:] = [f for f in sys.meta_path if not getattr(f, "__module__", "").startswith("__editable__")
                    and not type(f).__module__.startswith("__editable__")]
sys.path[:] = [p for p in sys.path if p and Path(p).resolve() != Path({root!r})]
sys.argv = ["serve.py", "--port", sys.argv[1]]
runpy.run_path("serve.py", run_name="__main__")
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Served:
    def __init__(self, folder: Path, tmp: Path) -> None:
        port = _free_port()
        env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        env["LOUPE_HOME"] = str(tmp / "no_history")
        self.proc = subprocess.Popen([sys.executable, "-c", DRIVER.format(blocked=BLOCKED, root=str(ROOT)),
                                      str(port)], cwd=folder, env=env, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE)
        self.base = f"http://127.0.0.1:{port}"
        for _ in range(240):
            assert self.proc.poll() is None, self.proc.stderr.read().decode()[-3000:]
            try:
                if httpx.get(f"{self.base}/health", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.5)
        raise AssertionError("the bundle's server did not answer /health in 120 s")

    def post(self, path: str, **kwargs):  # noqa: ANN003, ANN201
        return httpx.post(f"{self.base}{path}", timeout=60, **kwargs)

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=30)


def _png(seed: int) -> tuple[str, np.ndarray]:
    from PIL import Image, ImageDraw

    rng = np.random.default_rng(seed)
    image = Image.fromarray(rng.integers(0, 255, (60, 90, 3), dtype=np.uint8))
    ImageDraw.Draw(image).ellipse((10, 10, 50, 45), fill=(200, 30, 30))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode(), np.asarray(image)


def _copy(bundle: Path, tmp: Path) -> Path:
    """The bundle moved elsewhere, as a colleague would receive it."""
    import shutil

    return Path(shutil.copytree(bundle, tmp / "received"))


def _requests(kind: str, folder: Path) -> tuple[list, list]:
    """(JSON inputs, the same inputs as Loupe's predictor takes them)."""
    if kind == "text":
        texts = ["good", "bad and slow", f"great, mail me at {EMAIL}"]
        return texts, texts
    if kind == "image":
        pairs = [_png(seed) for seed in range(3)]
        return [b64 for b64, _ in pairs], [array for _, array in pairs]
    from core.deploy.portable import load_service

    example = load_service(folder).metadata["request_example"]
    first = next(iter(example))
    odd = {**example, first: f"{example[first]}!"}  # not a number: a per-row warning
    rows = [example, odd, {k: None for k in example}]
    return rows, rows


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["text", "image", "tabular", "trees"])
def test_bundle_serves_itself_without_torch_or_loupe(deploy_bundles, kind: str, tmp_path: Path) -> None:  # noqa: ANN001
    out, _ = deploy_bundles(kind)
    folder = _copy(out, tmp_path)
    requirements = (folder / "requirements.txt").read_text()
    assert "onnxruntime" in requirements and "python serve.py" in requirements
    for heavy in ("torch", "transformers", "lightgbm", "streamlit", "duckdb", "loupe"):
        assert not any(line.split(">")[0].split("=")[0].strip() == heavy
                       for line in requirements.splitlines()), heavy
    assert (folder / "runtime" / "core" / "deploy" / "portable.py").is_file()
    deploy = read_deploy(folder)
    json_inputs, loupe_inputs = _requests(kind, folder)
    expected = onnx_predictor(deploy["task"], folder, folder / deploy["model_file"]).predict(loupe_inputs)
    served = Served(folder, tmp_path)
    try:
        response = served.post("/predict", json={"inputs": json_inputs})
        assert response.status_code == 200, response.text
        rows = response.json()["predictions"]
        assert EMAIL not in response.text
        assert len(rows) == len(expected) and set(rows[0]) == set(expected.columns)
        numeric = [c for c in expected.columns if expected[c].dtype.kind == "f"]
        labels = [c for c in ("prediction", "image") if c not in numeric and c in expected.columns]
        assert numeric and all([r[c] for r in rows] == list(expected[c]) for c in labels)
        for column in numeric:
            assert np.allclose([r[column] for r in rows], expected[column].to_numpy(dtype=float),
                               rtol=1e-5, atol=1e-5), column
        if "warning" in expected.columns:
            assert [r.get("warning") for r in rows] == [w if isinstance(w, str) else None
                                                        for w in expected["warning"]]
        one = served.post("/predict", json={"input": json_inputs[0]})
        assert one.status_code == 200 and one.json()["prediction"]["prediction"] == rows[0]["prediction"]
        assert served.post("/predict", content=b"\xff\xfe").status_code == 400
        wrong = served.post("/predict", json={"input": [1, 2]})
        assert wrong.status_code == 422 and "input" in wrong.json()["detail"]
        assert served.post("/predict", json={"inputs": []}).status_code == 422
        explain = served.post("/explain", json={"input": json_inputs[0]})
        assert explain.status_code == 501 and "loupe serve-model --bundle" in explain.json()["fix"]
        meta = httpx.get(f"{served.base}/metadata", timeout=30).json()
        assert meta["task"] == deploy["task"] and meta["comparison"]
        assert httpx.get(f"{served.base}/health", timeout=30).json()["status"] == "ok"
    finally:
        served.close()
    assert not (tmp_path / "no_history" / "loupe.duckdb").exists()
