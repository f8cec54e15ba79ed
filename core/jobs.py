"""Start, watch and cancel trainings in child processes, so a page stays responsive.

A job is a queued run row plus a ``loupe train --run-id`` child process. Children wait their turn
(first queued, first served; ``max_parallel`` at a time) so several runs can be queued from the
dashboard without a separate daemon. Output goes to ``runs/<id>/train.log``.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

from core.config import RunConfig
from core.store import RunStore


def start_job(cfg: RunConfig, store: RunStore | None = None, fingerprint: str = "",
              launcher: list[str] | None = None, extra_args: list[str] | None = None) -> str:
    """Queue a run and start its child process; returns the run id at once.

    ``launcher`` replaces ``python`` for multi-process training, e.g.
    ``["accelerate", "launch", "--multi_gpu", "--num_processes", "2"]``. ``extra_args`` go
    to `loupe train` as they are (a sweep passes ``--sweep-trial ID:N``).
    """
    store = store or RunStore()
    if not cfg.name:  # "cats-dogs-lite0", not one name for every run of a kind
        from core.tasks import get_task

        cfg = cfg.replace(name=store.unique_name(get_task(cfg.task).run_name(cfg)))
    run_id = store.create_run(cfg, fingerprint, status="queued")
    run_dir = store.run_dir(run_id)
    (run_dir / "config.json").write_text(store.config(run_id).to_json())  # name/tags masked
    prefix = (launcher + ["-m"]) if launcher else [sys.executable, "-m"]
    command = prefix + ["core.cli", "train", cfg.task, "--config", str(run_dir / "config.json"),
                        "--run-id", run_id, "--wait-turn", "--quiet", *(extra_args or [])]
    env = {**os.environ, "LOUPE_HOME": str(store.home), "PYTHONUNBUFFERED": "1"}
    root = Path(__file__).resolve().parent.parent
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(root), env.get("PYTHONPATH")]))
    with open(run_dir / "train.log", "ab") as log:
        subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env,
                         start_new_session=True, cwd=os.getcwd())
    return run_id


def cancel_job(run_id: str, store: RunStore | None = None) -> str:
    """Ask the run to stop: the loop sees the flag within seconds; SIGTERM makes it sooner.

    ``run_id`` may be a unique prefix; returns the full id."""
    store = store or RunStore()
    run = store.get_run(run_id)
    run_id = run["id"]
    store.request_cancel(run_id)
    here = run["status"] == "running" and run.get("host") == socket.gethostname()
    pid = run.get("pid") if here else None  # never signal a stale pid another process reuses
    if pid:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(int(pid), signal.SIGTERM)
    return run_id


def read_log(run_id: str, store: RunStore | None = None, tail: int = 4000) -> str:
    store = store or RunStore()
    path = store.run_dir(run_id, create=False) / "train.log"
    if not path.exists():
        return ""
    data = path.read_bytes()[-tail:]
    return data.decode("utf-8", errors="replace")
