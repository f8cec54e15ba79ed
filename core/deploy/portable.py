"""A deploy bundle served with its runtime packages only: no torch, transformers, LightGBM,
Streamlit or DuckDB, no Loupe install and no history.

``core.deploy.bundle`` copies this module and every Loupe module it needs (found by importing
them in a fresh process with the heavy packages blocked: ``runtime_files``) into the bundle's
``runtime/`` folder, and writes ``serve.py``, which puts ``runtime/`` first on the path and calls
``main``. The kind's torch-free runtime (``OnnxKind.serving_ref``, in ``core/tasks/<kind>_
serving.py``) reads inputs and frames predictions exactly as the kind's predictor does; the HTTP
API is ``core.deploy.server``'s, so masking, limits and 4xx errors are the same. ``/explain``
answers 501: explanations need the original model and torch (``loupe serve-model --bundle``).
"""

from __future__ import annotations

import argparse
import importlib
import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.deploy.compress import FORMATS, session
from core.deploy.service import ModelService, plain
from core.errors import LoupeError

DEPLOY_FILE = "deploy.json"
RUNTIME_DIR = "runtime"
SERVE_SCRIPT = "serve.py"
CARD_FILE = "MODEL_CARD.md"
#: packages the runtime must never import: they are not in the bundle's requirements
BLOCKED = ("torch", "transformers", "lightgbm", "streamlit", "duckdb", "accelerate", "shap",
           "plotly", "optuna", "sklearn")
#: what every bundle needs (a kind adds its own: ``requirements`` of its serving class)
REQUIREMENTS = ("onnxruntime>=1.19,<2", "numpy>=1.26", "pandas>=2.1,<4", "fastapi>=0.110,<1",
                "uvicorn>=0.29,<1", "nominate>=0.1.0,<0.2", "wordfreq>=3.1,<4")


def read_deploy(folder: Path) -> dict[str, Any]:
    path = Path(folder) / DEPLOY_FILE
    try:
        deploy = json.loads(path.read_text())
        model = Path(folder) / deploy["model_file"]
        if not model.is_file() or deploy["format"] not in FORMATS:
            raise ValueError(f"{deploy['model_file']} missing or format unknown")
        return deploy
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise LoupeError(f"{folder} is not a Loupe deploy bundle ({DEPLOY_FILE}: {exc}).",
                         "export one with `loupe export RUN --format onnx --out DIR`.") from exc


def bundle_metadata(folder: Path, deploy: dict[str, Any], example: Any) -> dict[str, Any]:
    """What ``/metadata`` publishes for a bundle: the card fields, masked at export."""
    metrics_path, card_path = folder / "metrics.json", folder / CARD_FILE
    metrics = json.loads(metrics_path.read_text()) if metrics_path.is_file() else {}
    return plain({"run_id": deploy.get("run_id"), "task": deploy["task"], "format": deploy["format"],
                  "name": deploy.get("name", ""), "metrics": metrics.get("metrics", {}),
                  "model_card": card_path.read_text() if card_path.is_file() else "",
                  "comparison": deploy.get("comparison", []), "request_example": example})


def serving_class(ref: str) -> Any:
    module, _, name = ref.partition(":")
    return getattr(importlib.import_module(module), name)


@dataclass
class PortableService(ModelService):
    """A bundle's model in its kind's torch-free runtime: predictions only."""

    serving: Any = None

    @property
    def hook(self) -> Any:
        return self.serving

    @property
    def can_explain(self) -> bool:
        return False

    def explain(self, value: Any, method: str | None) -> dict[str, Any]:
        raise LoupeError("This bundle serves predictions only: explanations need the original "
                         "model and the Loupe package.", "install Loupe and run `loupe serve-model "
                         "--bundle <this folder>` for /explain.")


def load_service(folder: str | Path, max_batch: int = 1) -> PortableService:
    folder = Path(folder).expanduser().resolve()
    deploy = read_deploy(folder)
    if not deploy.get("serving"):
        raise LoupeError(f"{folder} has no portable runtime ({DEPLOY_FILE} names no 'serving').",
                         "serve it with Loupe installed: `loupe serve-model --bundle DIR`.")
    serving = serving_class(deploy["serving"])(folder, session(folder / deploy["model_file"]))
    return PortableService(deploy["task"], deploy["format"], serving,
                           bundle_metadata(folder, deploy, serving.request_example(serving)),
                           max_batch=max_batch, serving=serving)


def main(folder: Path, argv: list[str] | None = None) -> None:
    """``python serve.py``: serve the bundle in ``folder`` on 127.0.0.1 (``--host`` to share)."""
    parser = argparse.ArgumentParser(prog="serve.py", description="Serve this Loupe model "
                                     "(POST /predict, GET /health, /metadata, /docs).")
    parser.add_argument("--host", default="127.0.0.1", help="default 127.0.0.1 (this machine only)")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--max-batch", type=int, default=1,
                        help="group up to this many concurrent inputs into one model call")
    args = parser.parse_args(argv)
    try:
        service = load_service(folder, max_batch=max(1, args.max_batch))
    except LoupeError as exc:
        sys.exit(f"Error: {exc.problem}\nFix: {exc.fix}")
    from core.deploy.server import serve

    print(f"Serving the {service.kind} model ({service.fmt}) on http://{args.host}:{args.port} "
          f"(docs: /docs)", flush=True)
    serve(service, host=args.host, port=args.port)


_PROBE = """
import json, sys
for name in {blocked!r}:
    sys.modules[name] = None  # importing it now fails: the runtime must not need it
import pandas as pd
import core.deploy.portable, core.deploy.server
from core.deploy.portable import load_service
service = load_service(sys.argv[1])
from core.output import mask_table
from core.privacy import mask_frame
mask_table(mask_frame(pd.DataFrame({{"text": ["Mail Jane Doe at jane.doe@example.com"]}})))
files = [m.__file__ for n, m in list(sys.modules.items())
         if (n == "core" or n.startswith("core.")) and getattr(m, "__file__", None)]
print(json.dumps(sorted(files)))
"""


def runtime_files(folder: Path) -> dict[str, bytes]:
    """The Loupe modules the bundle in ``folder`` needs, as ``runtime/core/...`` -> source: found
    by loading its service (and masking a sample) in a fresh process where the blocked packages
    cannot be imported, so a bundle is only written when its runtime really works without them."""
    root = Path(__file__).resolve().parents[2]  # the folder holding the core package
    proc = subprocess.run([sys.executable, "-c", _PROBE.format(blocked=BLOCKED), str(folder)],
                          cwd=root, capture_output=True, text=True, timeout=600,
                          env=_env_with_path(root))
    if proc.returncode != 0:
        raise LoupeError("The bundle's runtime does not load without torch and the other training "
                         f"packages: {proc.stderr.strip().splitlines()[-1:] or ['no message']}.",
                         "report this as a Loupe bug; serve with `loupe serve-model --bundle DIR`.")
    files = json.loads(proc.stdout.strip().splitlines()[-1])
    return {f"{RUNTIME_DIR}/{Path(f).resolve().relative_to(root).as_posix()}": Path(f).read_bytes()
            for f in files}


def _env_with_path(root: Path) -> dict[str, str]:
    import os

    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(root), *filter(None, [env.get("PYTHONPATH")])])
    return env


SERVE_PY = '''"""Serve this Loupe model with its runtime packages only (no Loupe install, no history).

    pip install -r requirements.txt
    python serve.py [--port 8000] [--host 127.0.0.1] [--max-batch 8]

POST /predict ({"input": ...} or {"inputs": [...]}), GET /health, /metadata, /docs.
Returned texts are masked as in the Loupe dashboard.
"""

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "runtime"))

from core.deploy.portable import main  # noqa: E402

if __name__ == "__main__":
    main(HERE)
'''
