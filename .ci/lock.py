"""Refresh the per-Python pip constraint files in locks/ from a real resolve, and say what changed.

    make lock                      # every supported Python (3.10-3.13)
    make lock PYTHONS="3.12 3.13"  # only these

For each Python: a small resolver venv (kept in .cache/lock/), then
``pip install --dry-run --ignore-installed --report`` of the project with its dev extra — pip's own
resolver on that interpreter, nothing installed, only metadata fetched — and the chosen
``name==version`` of every distribution written to ``locks/py<X.Y>.txt``. ``make run`` and
``make test`` install with ``-c locks/py<X.Y>.txt``, so everyone gets what CI tested.

torch: a local version label (``2.13.0+cpu``) is written without it (``torch==2.13.0``): the lock
fixes the release, and pip takes the CPU build where one lies in its find-links folder (it sorts
above the plain release) and the default (CUDA) build elsewhere. ``TORCH`` pins a release for a
Python where the usual one would cost a download that a local wheel avoids.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCKS = ROOT / "locks"
SUPPORTED = ["3.10", "3.11", "3.12", "3.13"]
# This machine kind has torch 2.13.0's CPU wheel for CPython 3.11 on disk (190 MB, no CUDA
# libraries); the other Pythons take pip's newest allowed release (CUDA build, its NVIDIA
# libraries mostly on local disk for 2.14.1).
TORCH = {"3.11": "torch==2.13.0"}
EXTRAS = "dev"


def interpreter(version: str) -> str:
    out = subprocess.run([str(ROOT / ".ci" / "find_python"), version], capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(out.stderr.strip())
    return out.stdout.strip()


def resolver_venv(version: str) -> Path:
    venv = ROOT / ".cache" / "lock" / f"py{version}"
    python = venv / "bin" / "python"
    if not python.exists():
        subprocess.run([interpreter(version), "-m", "venv", str(venv)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", "--upgrade", "pip"], check=True)
    return python


def resolve(version: str) -> dict[str, str]:
    """name -> version that pip picks on this Python for the project and its dev extra."""
    python = resolver_venv(version)
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report.json"
        cmd = [str(python), "-m", "pip", "install", "-q", "--dry-run", "--ignore-installed",
               "--report", str(report), "-e", f".[{EXTRAS}]"]
        if version in TORCH:
            cmd.append(TORCH[version])
        out = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
        if out.returncode != 0:
            errors = [line for line in out.stderr.splitlines() if "is ignored" not in line]
            raise RuntimeError(f"pip could not resolve on Python {version}:\n" + "\n".join(errors[-30:]))
        data = json.loads(report.read_text())
    pins = {}
    for item in data["install"]:
        meta = item["metadata"]
        name = re.sub(r"[-_.]+", "-", meta["name"]).lower()
        if name != "loupe":
            pins[name] = meta["version"].split("+")[0]
    return dict(sorted(pins.items()))


def read_lock(path: Path) -> dict[str, str]:
    pins = {}
    if path.exists():
        for line in path.read_text().splitlines():
            if "==" in line and not line.startswith("#"):
                name, version = line.split("==", 1)
                pins[name.strip()] = version.strip()
    return pins


def write_lock(version: str, pins: dict[str, str]) -> Path:
    path = LOCKS / f"py{version}.txt"
    head = (f"# pip constraints for Python {version}: what `make lock` resolved and CI tests.\n"
            "# Generated; do not edit. Refresh with `make lock`.\n")
    path.write_text(head + "".join(f"{n}=={v}\n" for n, v in pins.items()))
    return path


def changes(old: dict[str, str], new: dict[str, str]) -> list[str]:
    lines = []
    for name in sorted(set(old) | set(new)):
        before, after = old.get(name), new.get(name)
        if before == after:
            continue
        if before is None:
            lines.append(f"  + {name} {after}")
        elif after is None:
            lines.append(f"  - {name} {before}")
        else:
            lines.append(f"  ~ {name} {before} -> {after}")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("pythons", nargs="*", default=SUPPORTED, help="versions, e.g. 3.12 3.13")
    args = parser.parse_args(argv)
    LOCKS.mkdir(exist_ok=True)
    for version in args.pythons:  # fail early, before any resolve, on a missing interpreter
        interpreter(version)
    with ThreadPoolExecutor(max_workers=len(args.pythons)) as pool:
        results = dict(zip(args.pythons, pool.map(_safe_resolve, args.pythons), strict=True))
    failed = False
    for version, result in results.items():
        if isinstance(result, Exception):
            print(f"Python {version}: FAILED, lock left as it was\n{result}")
            failed = True
            continue
        path = LOCKS / f"py{version}.txt"
        diff = changes(read_lock(path), result)
        write_lock(version, result)
        print(f"Python {version}: {len(result)} packages in {path.relative_to(ROOT)}, "
              + (f"{len(diff)} changed" if diff else "unchanged"))
        for line in diff:
            print(line)
    return 1 if failed else 0


def _safe_resolve(version: str) -> dict[str, str] | Exception:
    try:
        return resolve(version)
    except Exception as exc:  # noqa: BLE001 - reported per Python; the others still get locked
        return exc


if __name__ == "__main__":
    sys.exit(main())
