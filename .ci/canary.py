"""Canary: the newest releases pip can install (no lock, upper bounds lifted) + a small test set.

    make canary               # Python 3.13, venv .venv-canary-3.13
    make canary PYTHON=3.11

Tells, before anyone lifts a bound in pyproject.toml or refreshes the locks, which upgrade breaks
what: it prints each key package's canary version beside the locked one, runs the tests below,
and for every failing test names the installed distributions whose code is in its traceback.
Not part of CI (it depends on what was released today); exits 1 when a test fails.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10: pytest's dependency tomli is the same parser
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent
KEY = ["torch", "transformers", "shap", "streamlit", "duckdb", "numpy", "pandas", "accelerate",
       "plotly", "pyarrow", "scikit-learn", "numba"]
TESTS = ["tests/core/test_explain_text.py", "tests/core/test_explain_image.py",
         "tests/core/test_explain_tabular.py", "tests/core/test_explain_cli.py",
         "tests/core/test_store.py", "tests/core/test_tabular.py", "tests/core/test_text_model.py",
         "tests/core/test_image_models.py", "tests/dashboard/test_components.py"]


def unbounded(requirement: str) -> str:
    """'shap>=0.49,<0.55' -> 'shap>=0.49': the canary asks for the newest release."""
    found = re.match(r"([A-Za-z0-9_.\-\[\]]+)\s*(.*)", requirement)
    name, spec = found.group(1), found.group(2)
    kept = [part for part in spec.split(",") if part.strip() and not part.strip().startswith("<")]
    return name + ",".join(kept)


def requirements() -> list[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    reqs = list(project["dependencies"]) + [r for r in extras["test"] + extras["dev"] if "loupe" not in r]
    return [unbounded(r) for r in reqs]


def run(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    print("$", " ".join(cmd), flush=True)
    return subprocess.run(cmd, cwd=ROOT, **kw)


def versions(python: Path) -> dict[str, str]:
    code = ("import json, importlib.metadata as m\nout = {}\nfor d in m.distributions():\n"
            "    out[d.metadata['Name'].lower().replace('_', '-')] = d.version\nprint(json.dumps(out))")
    return json.loads(subprocess.run([str(python), "-c", code], capture_output=True, text=True,
                                     check=True).stdout)


def locked(version: str) -> dict[str, str]:
    path = ROOT / "locks" / f"py{version}.txt"
    pins = {}
    for line in path.read_text().splitlines() if path.exists() else []:
        if "==" in line and not line.startswith("#"):
            name, pin = line.split("==", 1)
            pins[name] = pin
    return pins


def culprits(text: str, python: Path) -> list[str]:
    """Distributions whose files appear in a traceback (site-packages/<module>/...)."""
    modules = sorted(set(re.findall(r"site-packages/([A-Za-z0-9_]+)", text)) - {"_pytest", "pluggy"})
    if not modules:
        return []
    code = ("import json, sys, importlib.metadata as m\nd = m.packages_distributions()\n"
            "print(json.dumps(sorted({x for mod in sys.argv[1:] for x in d.get(mod, [mod])})))")
    out = subprocess.run([str(python), "-c", code, *modules], capture_output=True, text=True)
    return json.loads(out.stdout) if out.returncode == 0 else modules


def main() -> int:
    version = sys.argv[1] if len(sys.argv) > 1 else "3.13"
    venv = ROOT / f".venv-canary-{version}"
    python = venv / "bin" / "python"
    if not python.exists():
        base = subprocess.run([str(ROOT / ".ci" / "find_python"), version], capture_output=True,
                              text=True, check=True).stdout.strip()
        run([base, "-m", "venv", str(venv)], check=True)
    run([str(python), "-m", "pip", "install", "-q", "--upgrade", "pip"], check=True)
    run([str(python), "-m", "pip", "install", "-q", "--upgrade", "--upgrade-strategy", "eager",
         *requirements()], check=True)
    run([str(python), "-m", "pip", "install", "-q", "--no-deps", "-e", "."], check=True)

    now, pins = versions(python), locked(version)
    print(f"\nCanary on Python {version}: key packages (canary vs locks/py{version}.txt)")
    for name in KEY:
        new, old = now.get(name, "-"), pins.get(name, "-")
        flag = "" if new == old else ("  NEWER" if old != "-" and new != "-" else "  differs")
        print(f"  {name:14} {new:14} lock {old}{flag}")

    report = venv / "canary-junit.xml"
    tests = run([str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--junitxml={report}",
                 *TESTS])
    failures = []
    for case in ET.parse(report).getroot().iter("testcase"):
        for problem in list(case.findall("failure")) + list(case.findall("error")):
            text = (problem.get("message") or "") + "\n" + (problem.text or "")
            failures.append((f"{case.get('classname')}::{case.get('name')}", culprits(text, python),
                             (problem.get("message") or "").splitlines()[0][:160] if problem.get("message")
                             else ""))
    if not failures:
        print(f"\nCanary on Python {version}: all {len(TESTS)} test files pass with the newest releases.")
        return tests.returncode
    print(f"\nCanary on Python {version}: {len(failures)} failing test(s)")
    for name, who, message in failures:
        blame = ", ".join(f"{w} {now.get(w.lower(), '?')}" for w in who) or "Loupe's own code"
        print(f"  {name}\n      in traceback: {blame}\n      {message}")
    return 1


if __name__ == "__main__":
    sys.exit(main())
