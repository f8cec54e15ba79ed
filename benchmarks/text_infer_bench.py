"""Batch text prediction: Loupe's predictor vs transformers.pipeline("text-classification").

Same model object, same tokenizer, same max length, same batch size and the same skewed-length
texts (mostly short reviews, a tail of long ones), run side by side in one process. Loupe sorts
texts by length before batching (restoring the input order afterwards), so a batch is padded only
to texts of its own size; the pipeline pads each batch of texts in arrival order to its longest.
Loupe's figure includes masking personal data in the returned texts; the pipeline does no masking.

    .venv/bin/python benchmarks/text_infer_bench.py            # ~3 min on a 2-core CPU
    .venv/bin/python benchmarks/text_infer_bench.py --texts 4000 --device cuda
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import torch  # noqa: E402


def parse() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--texts", type=int, default=480)
    p.add_argument("--long-share", type=float, default=0.08, help="share of very long texts")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--max-length", type=int, default=256)
    p.add_argument("--device", default="cpu")
    p.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: default)")
    p.add_argument("--repeats", type=int, default=1, help="timed passes per side (best is kept)")
    return p.parse_args()


def skewed_texts(n: int, long_share: float, seed: int = 0) -> list[str]:
    """Mostly short reviews, with a share of long rambling ones (several reviews glued)."""
    from core.datasets.texts import load_sample_frame

    reviews = load_sample_frame("reviews")["text"].tolist()
    rng = random.Random(seed)
    texts = [rng.choice(reviews) for _ in range(n)]
    for i in rng.sample(range(n), int(n * long_share)):
        texts[i] = " ".join(rng.sample(reviews, 12))
    return texts


def best_of(repeats: int, fn):  # noqa: ANN001, ANN201 — script helper
    """(best wall seconds, best process CPU seconds, result). CPU seconds are the steadier
    figure on a shared machine, where wall time depends on what else runs."""
    best, best_cpu, out = float("inf"), float("inf"), None
    for _ in range(repeats):
        started, cpu = time.perf_counter(), time.process_time()
        out = fn()
        best = min(best, time.perf_counter() - started)
        best_cpu = min(best_cpu, time.process_time() - cpu)
    return best, best_cpu, out


def main() -> None:
    a = parse()
    if a.threads:
        torch.set_num_threads(a.threads)
    from transformers import pipeline

    from core.models import text_models as tm
    from core.runtime import inference_runtime
    from core.tasks.text import TextPredictor

    texts = skewed_texts(a.texts, a.long_share)
    tokenizer = tm.load_tokenizer("")
    torch.manual_seed(0)
    model = tm.build_classifier("", ["negative", "positive"]).eval()
    runtime = inference_runtime(a.device)
    predictor = TextPredictor(model, tokenizer, {"labels": ["negative", "positive"],
                                                 "max_length": a.max_length}, runtime)
    ids, _ = tm.encode_texts(tokenizer, texts, a.max_length)
    lengths = np.array([len(i) for i in ids])
    print(f"device {runtime.device} ({torch.get_num_threads()} threads), {runtime.precision}, "
          f"batch {a.batch_size}, max_length {a.max_length}")
    print(f"{len(texts)} texts: tokens mean {lengths.mean():.0f}, p50 {np.median(lengths):.0f}, "
          f"p90 {np.percentile(lengths, 90):.0f}, max {lengths.max()}")

    predictor.predict(texts[:8])  # warm-up both sides
    with tm.quiet_transformers():
        pipe = pipeline("text-classification", model=model, tokenizer=tokenizer,
                        device=runtime.device)
    call = {"batch_size": a.batch_size, "truncation": True, "max_length": a.max_length,
            "top_k": None}
    pipe(texts[:8], **call)

    ours_s, ours_cpu, frame = best_of(
        a.repeats, lambda: predictor.predict(texts, batch_size=a.batch_size))
    proba_s, proba_cpu, _ = best_of(a.repeats, lambda: predictor.predict_proba(texts, a.batch_size))
    theirs_s, theirs_cpu, results = best_of(a.repeats, lambda: pipe(texts, **call))

    theirs_pos = np.array([{r["label"]: r["score"] for r in row}["positive"] for row in results])
    agree = float(np.mean((theirs_pos > 0.5) == (frame["prediction"] == "positive").to_numpy()))
    max_diff = float(np.max(np.abs(theirs_pos - frame["p_positive"].to_numpy())))
    n = len(texts)

    print()
    print(f"{'':34s}{'texts/s':>10s}{'wall s':>10s}{'CPU s':>10s}")
    print(f"{'Loupe predict (with masking)':34s}{n / ours_s:10.1f}{ours_s:10.1f}{ours_cpu:10.1f}")
    print(f"{'Loupe predict_proba (no masking)':34s}{n / proba_s:10.1f}{proba_s:10.1f}"
          f"{proba_cpu:10.1f}")
    print(f"{'transformers pipeline':34s}{n / theirs_s:10.1f}{theirs_s:10.1f}{theirs_cpu:10.1f}")
    print(f"RATIO texts/s Loupe/pipeline: {theirs_s / ours_s:.2f}x (goal >= 2x); "
          f"without masking {theirs_s / proba_s:.2f}x; by CPU time {theirs_cpu / ours_cpu:.2f}x")
    print(f"AGREEMENT of predicted labels: {agree:.4f}; max |p diff| {max_diff:.2e}")


if __name__ == "__main__":
    main()
