"""The small "Sweep" block of a run's HTML report: what the sweep tried and what mattered.

Every text is masked and HTML-escaped (``core.output.html_text``); numbers are formatted here.
"""

from __future__ import annotations

from core.output import html_text
from core.store import RunStore
from core.sweeps.space import describe_space
from core.sweeps.summary import summary, sweep_of_run

TOP_TRIALS = 5


def sweep_block(run_id: str, store: RunStore) -> str:
    """HTML for the report of ``run_id``; "" when the run is not part of a sweep (or it is gone)."""
    sweep_id = sweep_of_run(run_id, store)
    if not sweep_id:
        return ""
    try:
        found = summary(sweep_id, store)
    except Exception:  # a deleted or unreadable study: the report goes on without the block
        return ""
    sweep, trials = found["sweep"], found["trials"]
    counts = ", ".join(f"{n} {state}" for state, n in sorted(found["counts"].items()))
    role = ("the best trial" if sweep["best_run_id"] == run_id else
            f"one trial (the best was run {html_text(sweep['best_run_id'] or '-', mask=False)})")
    parts = [
        f"<p>This run is {role} of sweep <code>{html_text(sweep['id'], mask=False)}</code> "
        f"({html_text(sweep['name'] or '')}): {len(trials)} trials ({html_text(counts)}) with the "
        f"{html_text(sweep['sampler'])} sampler and the {html_text(sweep['pruner'])} pruner, "
        f"optimising {html_text(sweep['metric'])} ({html_text(sweep['direction'])}).</p>",
        "<p><b>What was tried</b></p><ul>"
        + "".join(f"<li>{html_text(line)}</li>" for line in describe_space(sweep["space"]))
        + "</ul>",
    ]
    if found["importances"]:
        parts.append("<p><b>What mattered</b> (Optuna's parameter importance)</p><ul>" + "".join(
            f"<li>{html_text(k)}: {v:.2f}</li>" for k, v in found["importances"].items()) + "</ul>")
    done = trials[trials["state"] == "complete"].dropna(subset=["value"])
    if not done.empty:
        done = done.sort_values("value", ascending=sweep["direction"] == "minimize").head(TOP_TRIALS)
        cols = ["trial", "value", *sweep["space"]]
        head = "".join(f"<th>{html_text(c)}</th>" for c in cols)
        rows = "".join("<tr>" + "".join(f"<td>{html_text(_cell(r[c]))}</td>" for c in cols) + "</tr>"
                       for _, r in done.iterrows())
        parts.append(f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>")
    return "".join(parts)


def _cell(value: object) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)
