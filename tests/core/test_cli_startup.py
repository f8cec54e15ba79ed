"""`loupe --help` stays light: building the parser and printing every command's help imports
neither pandas nor torch (issue 17: `loupe --help` under half a second; pinned by what is
imported, not by a timing)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

CODE = """
import contextlib, io, re, sys
from core.cli import build_parser
usage = build_parser().format_usage()
commands = re.search(r"\\{([a-z,-]+)\\}", usage).group(1).split(",")
for args in [["--help"]] + [[name, "--help"] for name in commands]:
    with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):
        build_parser().parse_args(args)
heavy = ("pandas", "torch", "numpy", "duckdb", "transformers", "shap")
print(len(commands), sorted(m for m in heavy if m in sys.modules))
"""


def test_every_help_page_imports_no_heavy_library() -> None:
    out = subprocess.run([sys.executable, "-c", CODE], cwd=ROOT, capture_output=True, text=True,
                         check=True).stdout.split(maxsplit=1)
    assert int(out[0]) >= 15, out  # train, predict, runs, explain, export, sweep, serve-model, ...
    assert out[1].strip() == "[]", f"`loupe … --help` imported {out[1]}"


SAMPLES_CODE = """
import contextlib, io, json, sys
from core.cli import main
out = io.StringIO()
with contextlib.redirect_stdout(out):
    code = main(["samples", "--json"])
heavy = ("torch", "transformers", "shap", "duckdb", "lightgbm", "streamlit")
print(json.dumps({"code": code, "listing": json.loads(out.getvalue()),
                  "heavy": sorted(m for m in heavy if m in sys.modules)}))
"""


def test_loupe_samples_lists_every_kind_without_importing_torch() -> None:
    from core.tasks import all_tasks

    got = json.loads(subprocess.run([sys.executable, "-c", SAMPLES_CODE], cwd=ROOT, capture_output=True,
                                    text=True, check=True).stdout.strip().splitlines()[-1])
    assert got["code"] in (0, None) and got["heavy"] == [], got["heavy"]
    # the light listing is the kinds' own: same kinds, same order, same samples
    assert list(got["listing"].items()) == [(t.kind, t.samples()) for t in all_tasks()]
