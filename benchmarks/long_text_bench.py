"""Seconds of token SHAP for a ~400-token text on a model that reads 512 tokens: the windowed path
(``explain_text``'s default for texts over ``WINDOW_TOKENS``) against the anchor, the plain
one-piece ``explain_text`` (``window=0``) with the same ``max_evals``, both measured here, in the
same process, one after the other. The issue's bound: under 60 s on 2 CPU cores.

The text is a hand-written espresso-machine review (not the sample generator's). Needs a text run
whose model reads 512 tokens, in the current LOUPE_HOME; accuracy does not matter for timing:

    LOUPE_HOME=/tmp/lt-home .venv/bin/loupe train text --data sample:reviews --max-length 512 \\
        --max-rows 64 --max-steps 3 --epochs 1 --batch-size 16 --device cpu --name long512
    LOUPE_HOME=/tmp/lt-home .venv/bin/python -m benchmarks.long_text_bench --run ID [--no-anchor]
"""

from __future__ import annotations

import argparse
import os
import time

LONG_REVIEW = (
    "I bought this espresso machine in early spring after my old one finally gave up, and I have "
    "now used it almost every morning for about four months, so this review is based on real daily "
    "use rather than first impressions. I paid a fair price for it on sale. Setting it up was easy "
    "enough: the water tank slides out from the side, the drip tray is deep, and the portafilter "
    "locks in with a satisfying click. The first shots were sour and thin, which I blamed on the "
    "beans, but after switching to a finer grind and tamping harder the coffee became rich, sweet "
    "and surprisingly close to what my favourite cafe serves. The machine heats up in roughly "
    "ninety seconds, which is far quicker than I expected, and the pressure gauge on the front is "
    "genuinely useful for learning. Milk frothing is the weak point. The wand is short and cannot "
    "swivel very far, so steaming milk in anything larger than a small jug is awkward, and the "
    "microfoam never gets as glossy as I would like for latte art. Cleaning is mostly painless: the "
    "drip tray and the tank go in the dishwasher, and descaling takes about twenty minutes once a "
    "month. On the downside, the plastic cup warmer on top scratches easily, and after two months a "
    "small rattle appeared somewhere inside the pump housing. Customer support answered my email "
    "within a day, were friendly, and sent a replacement gasket for free, although the rattle is "
    "still there and nobody could explain it. The noise level is acceptable for a pump machine but "
    "it will wake a light sleeper in the next room. Overall I am happy with it and would recommend "
    "it to anyone who mainly drinks straight espresso or americanos and is willing to spend a week "
    "learning, but if you drink mostly milky drinks or want something that feels solid and premium, "
    "I would save up for a better model. Four stars, with a bit of hesitation about how long it lasts."
)


def _timed(fn):
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--run", required=True)
    parser.add_argument("--max-evals", type=int, default=500)
    parser.add_argument("--no-anchor", action="store_true", help="skip the (slow) one-piece anchor")
    args = parser.parse_args()
    import numpy as np
    import torch

    from core.explain.shap_text import explain_text
    from core.predict import load_predictor
    from core.store import RunStore

    predictor = load_predictor(args.run, RunStore(), "cpu")
    tokens = len(predictor.tokenizer(LONG_REVIEW)["input_ids"])
    print(f"cores: {os.cpu_count()}, torch threads: {torch.get_num_threads()}, "
          f"model reads {predictor.meta.get('max_length')} tokens, text: {tokens} tokens")
    explain_text(predictor, "warm up the explainer", max_evals=40)
    win, win_s = _timed(lambda: explain_text(predictor, LONG_REVIEW, max_evals=args.max_evals))
    sizes = [w["tokens"] for w in win.info["windows"]]
    print(f"windowed: {win_s:.1f} s, {len(sizes)} windows of {sizes} tokens, "
          f"{win.info['evaluations']} evaluations in {win.info['model_calls']} model calls")
    if args.no_anchor:
        return
    one, one_s = _timed(lambda: explain_text(predictor, LONG_REVIEW, max_evals=args.max_evals, window=0))
    print(f"anchor, one piece (max_evals {args.max_evals}): {one_s:.1f} s, "
          f"{one.info['evaluations']} evaluations in {one.info['model_calls']} model calls")
    print(f"ratio windowed / one piece: {win_s / one_s:.2f}x")
    same, same_s = _timed(lambda: explain_text(predictor, LONG_REVIEW, window=0, lookahead=False,
                                               max_evals=win.info["evaluations"]))
    print(f"one piece at the windowed budget (max_evals {win.info['evaluations']}, no look-ahead): "
          f"{same_s:.1f} s, {same.info['evaluations']} evaluations")
    ref = one.values[1:-1, 0]  # the one-piece values at the full budget, tokens only
    for name, expl in (("windowed", win), ("one piece, same budget", same)):
        r = np.corrcoef(expl.values[1:-1, 0], ref)[0, 1]
        top = len(set(np.argsort(-np.abs(expl.values[1:-1, 0]))[:20]) & set(np.argsort(-np.abs(ref))[:20]))
        print(f"{name}: Pearson r with the full-budget values {r:.2f}, top-20 tokens shared {top}")


if __name__ == "__main__":
    main()
