"""Hostile run ids: empty ids, SQL wildcards, short and ambiguous prefixes, the hidden
``train --run-id`` pointed outside LOUPE_HOME or at a finished run, resuming a completed run, and a
reader that closes the pipe (``loupe show … | head``).

Documented outcome: ids resolve in one place (``core.store.ids.resolve_run_id``): the exact id or a
unique literal prefix of 4+ characters; everything else is exit status 2 with a fix, and deletes
nothing. ``--run-id`` must look like a Loupe id and name a queued run; a finished run's model is
never replaced.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from core.config import RunConfig
from core.store import RunStore
from tests.hostile.conftest import ROOT, assert_clear, cli_env


def _runs(store: RunStore, ids: list[str], names: list[str] | None = None) -> list[str]:
    """Runs with the given ids (rows re-keyed in the real store, as if uuid had drawn them)."""
    for index, wanted in enumerate(ids):
        made = store.create_run(RunConfig(task="tabular", name=(names or ids)[index]))
        with store.connect() as con:
            con.execute("UPDATE runs SET id=? WHERE id=?", [wanted, made])
    return ids


@pytest.mark.parametrize("ref", ["", "   ", "%", "_", "%%", "__________", "3f%", "*", "3f8"])
def test_delete_with_empty_wildcard_or_short_id_deletes_nothing(store: RunStore, run_cli,
                                                                 ref: str) -> None:
    _runs(store, ["3f80aa12bc", "9c3e5d7a01"])
    code, err = run_cli("delete", ref)
    assert code == 2, err
    assert_clear(err)
    assert store.count_runs() == 2


def test_prefix_is_literal_text_not_a_like_pattern(store: RunStore, run_cli) -> None:
    _runs(store, ["3f80aa12bc", "9c3e5d7a01"])
    code, err = run_cli("show", "%80")  # LIKE would match 3f80… ("%" is any text)
    assert code == 2 and "No run with id '%80'" in err, err
    code, err = run_cli("show", "f80a")  # inside the id, not at its start
    assert code == 2, err
    code, _ = run_cli("show", "3f80")  # a real prefix still works
    assert code == 0 and "3f80aa12bc" in run_cli.stdout
    assert store.list_runs(text="%").empty and store.list_runs(text="_").empty  # search: literal too


def test_ambiguous_prefix_lists_candidates_with_masked_names(store: RunStore, run_cli) -> None:
    _runs(store, ["abcd000001", "abcd000002"], ["jane.doe@example.com", "second"])
    code, err = run_cli("delete", "abcd")
    assert code == 2
    assert_clear(err, "matches several runs", "abcd000001", "abcd000002")
    assert "jane.doe@example.com" not in err
    assert store.count_runs() == 2


def _completed_run(store: RunStore) -> str:
    from core.tasks import get_task
    from core.train import train

    cfg = get_task("tabular").default_config("diabetes").replace(
        train={"epochs": 1, "patience": 0})
    return train(cfg, store).run_id


def _digest(folder: Path) -> str:
    digest = hashlib.sha256()
    for file in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(file.name.encode() + file.read_bytes())
    return digest.hexdigest()


def test_hidden_run_id_cannot_leave_loupe_home_or_replace_a_run(store: RunStore, run_cli,
                                                                loupe_home: Path,
                                                                tmp_path: Path) -> None:
    done = _completed_run(store)
    model = store.run_dir(done) / "model"
    before = _digest(model)
    escape = tmp_path / "escaped"
    outside = os.path.relpath(escape, loupe_home / "runs")  # ../../escaped
    tmp_x = Path("/tmp/x")
    tmp_x_existed = tmp_x.exists()
    train = ("train", "tabular", "--data", "sample:diabetes", "--epochs", "1", "--quiet")
    for bad in ("../../../tmp/x", outside, str(escape), "..", "a/b", "3f80aa12bc/../x"):
        code, err = run_cli(*train, "--run-id", bad)
        assert code == 2, (bad, err)
        assert_clear(err, "not a valid run id")
    assert not escape.exists() and (tmp_x_existed or not tmp_x.exists())
    code, err = run_cli(*train, "--run-id", done)  # a completed run: its model stays
    assert code == 2
    assert_clear(err, f"Run {done} is completed", "without --run-id")
    code, err = run_cli(*train, "--run-id", "0123456789")  # well-formed, but no such run
    assert code == 2 and "No run" in err, err
    assert _digest(model) == before and store.count_runs() == 1
    assert sorted(p.name for p in (loupe_home / "runs").iterdir()) == [done]


def test_resume_of_a_completed_run_refuses(store: RunStore, run_cli) -> None:
    done = _completed_run(store)
    model = store.run_dir(done) / "model"
    before = _digest(model)
    code, err = run_cli("resume", done[:6])
    assert code == 2
    assert_clear(err, "already completed", "new training")
    assert _digest(model) == before
    assert store.get_run(done)["status"] == "completed"


def test_closed_pipe_exits_quietly(store: RunStore, loupe_home: Path) -> None:
    """`loupe runs | head`: the reader is gone before Loupe writes; no traceback, exit 141."""
    for index in range(30):
        store.create_run(RunConfig(task="tabular", name=f"run {index}"))
    proc = subprocess.Popen([sys.executable, "-m", "core.cli", "runs", "--limit", "30"], cwd=ROOT,
                            env=cli_env(loupe_home), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    proc.stdout.close()  # like `head` exiting: every write now fails with EPIPE
    err = proc.stderr.read()
    assert proc.wait(timeout=120) == 141, err
    assert "Traceback" not in err and "BrokenPipe" not in err, err
