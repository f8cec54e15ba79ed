#!/usr/bin/env bash
# `loupe explain` on a text, an image and a table run, trained for a few steps on built-in samples,
# in a throw-away LOUPE_HOME. Usage: bash .ci/cli_journey.sh .venv-3.13   (prints key versions too)
set -euo pipefail
venv="${1:-.venv}"
home=$(mktemp -d)
export LOUPE_HOME="$home" HF_HUB_OFFLINE=1
trap 'rm -rf "$home"' EXIT
loupe="$venv/bin/loupe"
"$venv/bin/python" - <<'PY'
import importlib.metadata as m, platform
print("Python", platform.python_version(), "|", " ".join(
    f"{p} {m.version(p)}" for p in ("torch", "transformers", "shap", "streamlit", "duckdb", "numpy")))
PY
train() { "$loupe" train "$@" --device cpu --quiet --json | "$venv/bin/python" -c 'import json,sys; print(json.load(sys.stdin)["run_id"])'; }
text=$(train text --data sample:reviews --max-rows 48 --max-length 32 --epochs 1 --max-steps 2 --batch-size 16)
image=$(train image --data sample:shapes --max-rows 60 --model small_cnn --image-size 32 --epochs 1 --max-steps 3)
table=$(train tabular --data sample:house_prices --epochs 2 --max-steps 20)
"$venv/bin/python" -c "from PIL import Image; from core.datasets.image_samples import draw_shape; import numpy as np; Image.fromarray(draw_shape('circle', 48, np.random.default_rng(1))).save('$home/circle.png')"
set -x
"$loupe" explain "$text" --input "The battery died in a day" --max-evals 100 --quiet --html "$home/text.html"
"$loupe" explain "$text" --input "The battery died in a day" --method attention --quiet
"$loupe" explain "$image" --input "$home/circle.png" --max-evals 100 --quiet --html "$home/image.html"
"$loupe" explain "$table" --input '{"sqft": 1400, "bedrooms": 3, "year_built": 1990, "distance_km": 5, "neighborhood": "old town", "garage": "yes"}' --quiet
"$loupe" explain "$table" --method global --rows 50 --quiet
set +x
ls -la "$home"/*.html
echo "CLI explain journey: OK"
