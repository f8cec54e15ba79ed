"""Time to result through the dashboard: click "Start training" on the Train page → the page shows
the run completed (issue 17), cold and warm, against the same config's `loupe train` command.

The dashboard runs headless (``tests/browser/harness.serve``) on a fresh LOUPE_HOME and is driven
by the system Chromium. For each case: Home → "Try SAMPLE" → Train (epochs set when the case
names them) → click "Start training" and time until the "Latest finished run" panel shows the new
run's id with "Test scores:". *Cold*: the first run after the server started; *warm*: a second
click on the same form. Also timed: click → "Started run" (the data check and the job start).

Anchor, measured in the same invocation: the same config as ``loupe train KIND --data
sample:NAME [--epochs N]`` from process start to exit, cold (fresh home) and warm (same home),
with ``benchmarks/time_to_result.py``'s command timing.

    .venv/bin/python benchmarks/dashboard_time_to_result.py                 # house_prices, reviews:1
    .venv/bin/python benchmarks/dashboard_time_to_result.py --case tabular:house_prices --shot out.png
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from time_to_result import loupe_train_command, time_command  # noqa: E402

from tests.browser.harness import assert_no_exception, browser, goto, screenshot, serve, wait_idle  # noqa: E402

DEFAULT_CASES = ("tabular:house_prices", "text:reviews:1")
RUN_TIMEOUT_S = 1800.0
STARTED = re.compile(r"Started run `?([0-9a-f]{10})`?")
FINISHED_JS = """([id]) => {
  const text = document.body.innerText;
  const at = text.indexOf("Latest finished run");
  return at >= 0 && text.indexOf(id, at) > at && text.indexOf("Test scores:", at) > at;
}"""


def parse() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--case", action="append",
                   help=f"KIND:SAMPLE[:EPOCHS] (repeatable; default: {', '.join(DEFAULT_CASES)})")
    p.add_argument("--shot", type=Path, default=Path("/work/notes/ttr_dashboard.png"),
                   help="screenshot of the last case's completed state")
    p.add_argument("--no-anchor", action="store_true", help="skip the `loupe train` anchor")
    p.add_argument("--json", action="store_true")
    return p.parse_args()


def click_start(page: Any) -> tuple[str, float, float]:
    """Click Start training; (run id, seconds to "Started run", seconds to the completed panel)."""
    t0 = time.perf_counter()
    page.get_by_role("button", name="Start training", exact=True).first.click()
    started = page.get_by_text(STARTED).first
    started.wait_for(timeout=RUN_TIMEOUT_S * 1000)
    t_started = time.perf_counter() - t0
    match = STARTED.search(started.inner_text())
    if match is None:
        raise RuntimeError(f"no run id in {started.inner_text()!r}")
    run_id = match.group(1)
    deadline = t0 + RUN_TIMEOUT_S
    while not page.evaluate(FINISHED_JS, [run_id]):
        if page.get_by_text("Training failed").count():
            raise RuntimeError(page.get_by_text("Training failed").first.inner_text())
        if time.perf_counter() > deadline:
            raise TimeoutError(f"run {run_id} did not show completed within {RUN_TIMEOUT_S:.0f} s")
        page.wait_for_timeout(100)
    return run_id, t_started, time.perf_counter() - t0


def open_train(page: Any, url: str, sample: str, epochs: str) -> None:
    goto(page, url, "home")
    page.get_by_role("button", name=f"Try {sample}", exact=True).first.click()
    page.wait_for_url("**/train", timeout=120_000)
    wait_idle(page, 120)
    if epochs:
        box = page.get_by_label("Epochs", exact=True).first
        box.wait_for(timeout=120_000)
        box.fill(epochs)
        box.press("Tab")
        wait_idle(page, 120)


def dashboard_case(case: str, shot: Path | None) -> dict:
    kind, sample, epochs = (case.split(":") + [""])[:3]
    with tempfile.TemporaryDirectory(prefix="loupe-ttr-ui-") as home:
        t0 = time.perf_counter()
        with serve(Path(home), timeout=180) as url, browser() as page:
            server_s = time.perf_counter() - t0
            open_train(page, url, sample, epochs)
            runs = {}
            for label in ("cold", "warm"):
                run_id, to_started, to_done = click_start(page)
                runs[label] = {"run_id": run_id, "click_to_started_s": to_started,
                               "click_to_completed_s": to_done, "load_1min": os.getloadavg()[0]}
            wait_idle(page, 120)
            assert_no_exception(page)
            if shot is not None:
                screenshot(page, shot.parent, shot.stem)
    return {"case": case, "server_start_s": server_s, **runs}


def anchor(case: str) -> dict:
    kind, sample, epochs = (case.split(":") + [""])[:3]
    command = loupe_train_command(kind, f"sample:{sample}", epochs)
    with tempfile.TemporaryDirectory(prefix="loupe-ttr-cli-") as home:
        cold, _ = time_command(command, home)
        warm, _ = time_command(command, home)
    return {"command": "loupe " + " ".join(command[command.index("train"):]), "cold_s": cold,
            "warm_s": warm, "load_1min": os.getloadavg()[0]}


def main() -> None:
    args = parse()
    cases = args.case or list(DEFAULT_CASES)
    for i, case in enumerate(cases):
        result = dashboard_case(case, args.shot if i == len(cases) - 1 else None)
        if not args.no_anchor:
            result["anchor_cli"] = anchor(case)
        if args.json:
            print(json.dumps(result))
            continue
        print(f"\n== {case}: dashboard server up in {result['server_start_s']:.1f} s")
        for label in ("cold", "warm"):
            r = result[label]
            print(f"   {label}: click → completed {r['click_to_completed_s']:.1f} s (click → "
                  f"'Started run' {r['click_to_started_s']:.1f} s; run {r['run_id']}; load "
                  f"{r['load_1min']:.1f})")
        if "anchor_cli" in result:
            a = result["anchor_cli"]
            print(f"   anchor `{a['command']}`: cold {a['cold_s']:.1f} s, warm {a['warm_s']:.1f} s "
                  f"(load {a['load_1min']:.1f})")


if __name__ == "__main__":
    main()
