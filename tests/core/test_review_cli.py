"""`loupe review` and `loupe compare` (issue 19 item 6, the CLI of items 2 and 3): the flags file of
`loupe check --out` reviewed in a spreadsheet becomes a reviewed version, trained on and compared;
careless use gets clear errors. A hand-built rents table with a typo'd rent and an impossible floor."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

pytest.importorskip("cleanlab")

from core.store import RunStore  # noqa: E402
from tests.core.test_data_versions import _rents, _tree_run  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


def _cli(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "LOUPE_HOME": str(home)}
    return subprocess.run([sys.executable, "-m", "core.cli", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=600)


def test_review_a_flags_file_train_and_compare(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "home"
    monkeypatch.setenv("LOUPE_HOME", str(home))
    frame = _rents()
    frame.loc[9, "rent"] *= 40  # data row 10: a typo'd rent
    frame.loc[20, "floor"] = 5_000  # data row 21: an impossible floor
    source = tmp_path / "rents.csv"
    run_id = _tree_run(frame, source, RunStore())
    digest = hashlib.sha256(source.read_bytes()).hexdigest()

    checked = _cli(home, "check", run_id, "--out", str(tmp_path / "flags.csv"))
    assert checked.returncode == 0, checked.stderr
    flags = pd.read_csv(tmp_path / "flags.csv")
    assert {"row 10", "row 21"} <= set(flags["row"])
    # the person's review, as a spreadsheet would save it: two decisions, the rest left empty
    flags["decision"] = ""
    flags["new_label"] = ""
    corrected = float(frame.loc[9, "rent"]) / 40
    flags.loc[flags["row"] == "row 10", ["decision", "new_label"]] = ["relabel", str(corrected)]
    flags.loc[flags["row"] == "row 21", "decision"] = "exclude"
    flags.to_csv(tmp_path / "reviewed.csv", index=False)

    reviewed = _cli(home, "review", run_id, "--decisions", str(tmp_path / "reviewed.csv"), "--train",
                    "--json")
    assert reviewed.returncode == 0, reviewed.stderr
    payload = json.loads(reviewed.stdout)
    assert payload["excluded"] == 1 and payload["relabelled"] == 1 and payload["status"] == "completed"
    edits = json.loads(Path(payload["edits"]).read_text())
    assert edits["exclude"] == ["21"] and float(edits["relabel"]["10"]) == pytest.approx(corrected)
    metrics = {m["metric"]: m for m in payload["comparison"]["metrics"]}
    assert metrics["test_rmse"]["change"] == pytest.approx(metrics["test_rmse"]["after"] -
                                                           metrics["test_rmse"]["before"])
    assert hashlib.sha256(source.read_bytes()).hexdigest() == digest  # the user's file untouched
    retrained = payload["retrained"]
    assert RunStore().get_run(retrained)["dataset_fingerprint"] == payload["fingerprint"]

    compared = _cli(home, "compare", run_id, retrained, "--out", str(tmp_path / "moved.csv"))
    assert compared.returncode == 0, compared.stderr
    assert "test_rmse" in compared.stdout and "wrote" in compared.stdout
    moved = pd.read_csv(tmp_path / "moved.csv")
    assert 0 < len(moved) <= 25 and {"row", "before", "after", "change"} <= set(moved.columns)

    # a bulk review without --train says how to train on it, and that command works
    bulk = _cli(home, "review", run_id, "--all", "exclude", "--issue", "feature outlier")
    assert bulk.returncode == 0, bulk.stderr
    command = next(line for line in bulk.stdout.splitlines() if line.startswith("train on it: "))
    shell = os.path.expandvars(command.removeprefix("train on it: loupe "))  # as a shell would
    trained = _cli(home, *shell.split(), "--quiet")
    assert trained.returncode == 0, trained.stderr


def test_careless_reviews_and_comparisons_get_clear_errors(tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "home"
    monkeypatch.setenv("LOUPE_HOME", str(home))
    frame = _rents(160)
    frame.loc[5, "rent"] *= 40
    run_id = _tree_run(frame, tmp_path / "rents.csv", RunStore())
    other = _tree_run(_rents(120), tmp_path / "other.csv", RunStore())

    unchecked = _cli(home, "review", run_id, "--all", "exclude")
    assert unchecked.returncode == 2 and f"loupe check {run_id}" in unchecked.stderr
    assert _cli(home, "check", run_id, "--out", str(tmp_path / "flags.csv")).returncode == 0

    wrong_issue = _cli(home, "review", run_id, "--all", "exclude", "--issue", "typo")
    assert wrong_issue.returncode == 2 and "extreme residual" in wrong_issue.stderr
    flags = pd.read_csv(tmp_path / "flags.csv")
    no_column = _cli(home, "review", run_id, "--decisions", str(tmp_path / "flags.csv"))
    assert no_column.returncode == 2 and "'decision'" in no_column.stderr
    for decision, row, expected in [("delete", flags.iloc[0]["row"], "line 2: 'delete'"),
                                    ("exclude", "row 9999", "'row 9999' is not a flagged example"),
                                    ("relabel", flags.iloc[0]["row"], "relabel needs a new label")]:
        reviewed = pd.DataFrame({"row": [row], "decision": [decision]})
        reviewed.to_csv(tmp_path / "reviewed.csv", index=False)
        answer = _cli(home, "review", run_id, "--decisions", str(tmp_path / "reviewed.csv"))
        assert answer.returncode == 2 and expected in answer.stderr, answer.stderr
    assert not (home / "datasets").exists()  # nothing was saved by a failed review

    different = _cli(home, "compare", run_id, other)
    assert different.returncode == 2 and "did not split the same data" in different.stderr
