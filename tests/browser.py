"""Open an HTML file in a real headless Chromium: its DOM after scripts ran, its console."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--enable-logging=stderr",
    "--v=0",
]


def chromium() -> str:
    """The browser's path; skips the test where none is installed, unless CI requires one."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    if os.environ.get("SEI_REQUIRE_BROWSER") == "1":
        pytest.fail("SEI_REQUIRE_BROWSER=1 but no chromium is installed")
    pytest.skip("no chromium installed (apt-get install -y chromium)")


def render(page: Path, screenshot: Path | None = None, height: int = 3000) -> tuple[str, list[str]]:
    """Load ``page``; return (DOM after 8 s of virtual time, console lines)."""
    browser = chromium()
    with tempfile.TemporaryDirectory() as profile:
        args = [browser, *FLAGS, f"--user-data-dir={profile}", "--virtual-time-budget=8000"]
        if screenshot is not None:
            args += [f"--screenshot={screenshot}", f"--window-size=1400,{height}"]
        else:
            args += ["--dump-dom"]
        done = subprocess.run(
            [*args, page.resolve().as_uri()], capture_output=True, text=True, timeout=180
        )
    console = [line for line in done.stderr.splitlines() if ":CONSOLE" in line]
    return done.stdout, console


def console_errors(lines: list[str]) -> list[str]:
    bad = ("Uncaught", "Error", "ERROR:CONSOLE", "WARNING:CONSOLE")
    return [line for line in lines if any(b in line for b in bad)]
