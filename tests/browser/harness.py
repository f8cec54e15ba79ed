"""Start the dashboard on a free port and drive it with the system Chromium (no `playwright install`).

Shared by the browser test, the screenshot script and ``benchmarks/ui_bench.py``.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("LOUPE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
PAGES = ("home", "data", "train", "runs", "predict", "explain", "export")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def serve(home: Path, port: int | None = None, log: Path | None = None, timeout: float = 90.0
          ) -> Iterator[str]:
    """Run `streamlit run dashboard/app.py` headless with LOUPE_HOME=home; yields the base URL."""
    port = port or free_port()
    env = {**os.environ, "LOUPE_HOME": str(home), "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1",
           "TRANSFORMERS_OFFLINE": "1", "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false"}
    cmd = [sys.executable, "-m", "streamlit", "run", str(ROOT / "dashboard" / "app.py"),
           "--server.port", str(port), "--server.address", "127.0.0.1", "--server.headless", "true"]
    log = log or Path(home) / "dashboard.log"
    Path(log).parent.mkdir(parents=True, exist_ok=True)
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"streamlit exited with {proc.returncode}")
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as resp:
                    if resp.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError("the dashboard did not start")
            time.sleep(0.3)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


@contextmanager
def browser(width: int = 1400, height: int = 1000) -> Iterator[Any]:
    """A Playwright page in headless system Chromium."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        context = chromium.new_context(viewport={"width": width, "height": height})
        page = context.new_page()
        try:
            yield page
        finally:
            context.close()
            chromium.close()


def wait_idle(page: Any, timeout: float = 60.0) -> None:
    """Wait until Streamlit has finished the current script run (no 'Running…' status widget)."""
    page.wait_for_selector('[data-testid="stApp"]', timeout=timeout * 1000)
    page.wait_for_function(
        "() => { const app = document.querySelector('[data-testid=\"stApp\"]');"
        " return app && app.getAttribute('data-test-script-state') !== 'running'; }",
        timeout=timeout * 1000)


def goto(page: Any, url: str, name: str, timeout: float = 60.0) -> None:
    """Open one page of the app by its URL path and wait for the run to finish."""
    page.goto(f"{url}/{'' if name == 'home' else name}", wait_until="domcontentloaded")
    page.get_by_role("heading", level=1).first.wait_for(timeout=timeout * 1000)
    wait_idle(page, timeout)


def assert_no_exception(page: Any) -> None:
    exc = page.locator('[data-testid="stException"]')
    if exc.count():
        raise AssertionError(f"the page shows a traceback: {exc.first.inner_text()[:500]}")


def screenshot(page: Any, folder: Path | None, name: str, max_height: int = 4000) -> Path | None:
    """A PNG of the whole page: Streamlit scrolls an inner container, so the viewport is grown to
    the content height for the shot (full_page alone would stop at the window)."""
    if folder is None:
        return None
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    size = page.viewport_size
    height = page.evaluate(
        "() => { const el = document.querySelector('[data-testid=\"stMainBlockContainer\"]');"
        " return el ? el.scrollHeight + 120 : document.body.scrollHeight; }")
    tall = int(min(max(height, size["height"]), max_height))
    page.set_viewport_size({"width": size["width"], "height": tall})
    page.mouse.move(1, 1)  # no hover tooltips in the picture
    page.wait_for_timeout(700)  # charts and data grids draw after the script run ends
    page.screenshot(path=str(path), full_page=True)
    page.set_viewport_size(size)
    return path
