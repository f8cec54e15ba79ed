"""Deploy a trained model: ONNX and int8 ONNX exports with their measured accuracy cost, a portable
bundle, and a local REST endpoint.

- ``onnx_kind``: the per-kind hook (``Task.onnx_ref``; each kind's in ``core/tasks/<kind>_onnx.py``);
- ``compress``: ONNX export, int8 quantization (onnxruntime), the accuracy/speed comparison;
- ``bundle``: the deploy folder (export + ONNX + deploy.json + requirements.txt);
- ``service`` and ``server``: the model behind FastAPI (``loupe serve-model``).
Heavy imports (onnxruntime, fastapi) happen inside the functions that need them.
"""


def serve_command(run_id: str, fmt: str = "original", port: int = 8000) -> str:
    """The ``loupe serve-model`` command line for a run (the Export page shows it)."""
    extra = "" if fmt == "original" else f" --format {fmt}"
    return f"loupe serve-model {run_id}{extra} --port {port}"
