"""Start-up cost of the first SHAP explanation in a fresh process, per installed shap release.

Why: shap releases that use numba (the newest ones for Python 3.10 and 3.11) compile their kernels
on the first explanation of every process; shap 0.54 (Python >= 3.12) has no numba. Loupe no
longer patches shap's kernels to hide that cost, so this benchmark keeps it measured.

Each round runs in a NEW Python process (``sys.executable``): import shap, then the explanations
Loupe runs — Partition over the packaged MiniLM tokenizer's Text masker (text and image use the
Partition explainer) and Exact over an Independent masker (tables) — twice each. The anchor is the
second, warm call of the same explanation in the same process; the ratio first/second is the
start-up cost. The model is a cheap numpy function, so the timings are shap's own work.

    .venv/bin/python benchmarks/shap_startup_bench.py [--rounds 2]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CHILD = r"""
import json, time
t0 = time.perf_counter()
from core.explain.common import prepare_shap
shap = prepare_shap()
import numpy as np
t_import = time.perf_counter() - t0
from core.models.text_models import load_tokenizer
tokenizer = load_tokenizer("minilm")
words = {"great": 2.0, "love": 1.5, "bad": -2.0, "broke": -1.5, "not": -0.5}

def text_model(texts):
    scores = [sum(words.get(w.strip(".,!").lower(), 0.0) for w in str(t).split()) for t in texts]
    p = 1 / (1 + np.exp(-np.asarray(scores)))
    return np.stack([1 - p, p], axis=1)

rng = np.random.default_rng(0)
w = rng.normal(size=6)
background = rng.normal(size=(50, 6))
def table_model(x):
    return np.tanh(np.asarray(x) @ w)

sentence = "I love this phone, the screen is great but the battery broke after a bad week"
text = shap.explainers.Partition(text_model, shap.maskers.Text(tokenizer))
table = shap.explainers.Exact(table_model, shap.maskers.Independent(background, max_samples=50))
out = {"import": t_import, "shap": shap.__version__}
for name, call in (("text_partition", lambda: text([sentence], max_evals=200, silent=True)),
                   ("table_exact", lambda: table(background[:1], silent=True))):
    for run in ("first", "second"):
        t = time.perf_counter()
        call()
        out[f"{name}_{run}"] = time.perf_counter() - t
print(json.dumps(out))
"""


def fresh_process() -> dict:
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    out = subprocess.run([sys.executable, "-c", CHILD], cwd=ROOT, env=env, capture_output=True, text=True,
                         check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    runs = [fresh_process() for _ in range(args.rounds)]
    med = {k: statistics.median(r[k] for r in runs) for k in runs[0] if k != "shap"}
    print(f"Python {platform.python_version()}, shap {runs[0]['shap']}, {os.cpu_count()} cores, "
          f"load {os.getloadavg()[0]:.1f}, {args.rounds} fresh processes (medians)")
    print(f"import shap: {med['import']:.2f} s")
    for name in ("text_partition", "table_exact"):
        first, second = med[f"{name}_first"], med[f"{name}_second"]
        print(f"{name}: first call in the process {first:.2f} s, second (anchor) {second:.3f} s, "
              f"ratio {first / max(second, 1e-3):.1f}x, start-up {max(first - second, 0.0):.2f} s")


if __name__ == "__main__":
    main()
