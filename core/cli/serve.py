"""`loupe serve`: start the dashboard (Streamlit) on this machine."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path
from typing import Any


def add_parsers(sub: Any) -> None:
    sv = sub.add_parser("serve", help="start the dashboard")
    sv.add_argument("--port", type=int, default=8501)
    sv.add_argument("--address", default="127.0.0.1",
                    help="interface to listen on (default: this machine only; Streamlit has no "
                         "login, so put a proxy with authentication in front before widening it)")
    sv.set_defaults(func=cmd_serve)


def cmd_serve(args: argparse.Namespace) -> int:
    app = Path(__file__).resolve().parents[2] / "dashboard" / "app.py"
    return subprocess.call([sys.executable, "-m", "streamlit", "run", str(app),
                            "--server.port", str(args.port), "--server.address", args.address])
