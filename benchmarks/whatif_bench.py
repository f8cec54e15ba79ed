"""Seconds for a what-if counterfactual, against the anchor: one SHAP explanation of the same
input (what the Explain page already makes a person wait for), both measured here, same process.

- text: ``text_counterfactual`` (removal) on hand-written reviews (not the sample generator's)
  vs ``explain(..., method="shap")`` with default max_evals (500), cache off;
- table: ``table_counterfactual`` (target: +20% of the prediction, every column editable) on
  test rows vs one row's SHAP explanation, cache off;
- a 400-token text: token SHAP (``explain``), the issue's bound is 60 s.

Needs trained runs in the current LOUPE_HOME (``loupe train text --data sample:reviews`` and
``loupe train tabular --data sample:house_prices``):

    .venv/bin/python -m benchmarks.whatif_bench --text-run ID --table-run ID
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

REVIEWS = [
    "The hinge snapped within a week and the seller stopped replying to my messages.",
    "Honestly the best headphones I have owned, the sound is warm and the battery lasts for days.",
    "Arrived late and scratched, but customer service sent a replacement quickly.",
    "Flimsy plastic, the lid never closed properly and it leaked coffee all over my bag.",
    "Comfortable, light and the colour is exactly as pictured. Would buy again.",
    "It does the job. Nothing special, nothing wrong, the instructions were a bit vague.",
]


def _seconds(fn) -> tuple[object, float]:
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--text-run")
    parser.add_argument("--table-run")
    parser.add_argument("--rows", type=int, default=5)
    args = parser.parse_args()
    from core.explain import explain
    from core.store import RunStore
    from core.whatif import table_counterfactual, text_counterfactual

    store = RunStore()
    print(f"cores: {os.cpu_count()}, torch threads: {__import__('torch').get_num_threads()}")
    if args.text_run:
        explain(args.text_run, "warm up", store=store, use_cache=False, max_evals=50)
        cf_s, shap_s, found, calls = [], [], 0, []
        for text in REVIEWS:
            cf, s = _seconds(lambda t=text: text_counterfactual(args.text_run, t, store=store))
            _, e = _seconds(lambda t=text: explain(args.text_run, t, store=store, use_cache=False))
            cf_s.append(s)
            shap_s.append(e)
            found += cf.found
            calls.append(cf.evaluations)
            print(f"  text: counterfactual {s:6.2f} s ({cf.model_calls} calls, {cf.evaluations} texts, "
                  f"{len(cf.words)} words, found={cf.found})   token SHAP {e:6.2f} s")
        print(f"text counterfactual: median {statistics.median(cf_s):.2f} s; token SHAP median "
              f"{statistics.median(shap_s):.2f} s; ratio (counterfactual / SHAP) "
              f"{statistics.median(cf_s) / statistics.median(shap_s):.2f}x; found {found}/{len(REVIEWS)}")
        long_text = " ".join(REVIEWS * 8)
        expl, s = _seconds(lambda: explain(args.text_run, long_text, store=store, use_cache=False))
        print(f"long text: {len(expl.tokens or [])} tokens explained in {s:.1f} s (bound: 60 s)")
    if args.table_run:
        from core.explain.shap_tabular import raw_split
        from core.predict import load_predictor

        predictor = load_predictor(args.table_run, store, "cpu")
        rows = raw_split(store, args.table_run, "test").head(args.rows)
        cf_s, shap_s = [], []
        for i in range(len(rows)):
            row = rows.iloc[[i]][predictor.input_columns]
            base = float(predictor.predict(row)["prediction"].iloc[0])
            cf, s = _seconds(lambda r=row, b=base: table_counterfactual(args.table_run, r, b * 1.2,
                                                                        store=store))
            _, e = _seconds(lambda r=row: explain(args.table_run, r, store=store, use_cache=False))
            cf_s.append(s)
            shap_s.append(e)
            print(f"  table: counterfactual {s:6.2f} s ({cf.model_calls} calls, {cf.evaluations} rows, "
                  f"found={cf.found})   SHAP {e:6.2f} s")
        cf_m, shap_m = statistics.median(cf_s), statistics.median(shap_s)
        print(f"table counterfactual: median {cf_m:.2f} s; SHAP median {shap_m:.2f} s; "
              f"ratio {cf_m / shap_m:.2f}x")


if __name__ == "__main__":
    main()
