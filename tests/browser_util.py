"""Headless-browser helpers for the map tests and benchmark (Debian chromium via playwright).

No browser download: uses ``/usr/bin/chromium`` (or playwright's own build if one is already
installed). All network is blocked; only ``file://`` and ``data:`` URLs may load.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

LAUNCH_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip


def find_browser() -> str | None:
    """Return the path of a usable Chromium executable, or None."""
    for cand in ("/usr/bin/chromium", "/usr/bin/chromium-browser"):
        if os.access(cand, os.X_OK):
            return cand
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    pw = os.path.expanduser("~/.cache/ms-playwright/chromium-*/chrome-linux/chrome")
    hits = sorted(glob.glob(pw))
    return hits[-1] if hits else None


@dataclass
class PageLog:
    """What happened while a page was open."""

    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)
    blocked_requests: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)


@contextlib.contextmanager
def open_map(html: Path, viewport: tuple[int, int] = (1280, 860)) -> Iterator[tuple[Any, PageLog]]:
    """Open ``html`` from file:// in headless Chromium with all network blocked.

    Yields
    ------
    (page, log)
        The playwright page after ``window.__mapReady`` is true, and the running log.

    """
    from playwright.sync_api import sync_playwright

    exe = find_browser()
    if exe is None:
        raise RuntimeError("no Chromium executable found")
    log = PageLog()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=exe, args=LAUNCH_ARGS, headless=True)
        try:
            context = browser.new_context(
                viewport={"width": viewport[0], "height": viewport[1]}, offline=True
            )

            def route(route_: Any) -> None:
                url = route_.request.url
                if url.startswith(("file://", "data:")):
                    route_.continue_()
                else:
                    log.blocked_requests.append(url)
                    route_.abort()

            context.route("**/*", route)
            page = context.new_page()
            page.on("console", lambda m: m.type == "error" and log.console_errors.append(m.text))
            page.on("pageerror", lambda e: log.page_errors.append(str(e)))
            page.on("requestfailed", lambda r: log.failed_requests.append(r.url))
            page.on("request", lambda r: log.requests.append(r.url))

            def on_dialog(dialog: Any) -> None:
                log.dialogs.append(f"{dialog.type}: {dialog.message}")
                dialog.dismiss()

            page.on("dialog", on_dialog)
            page.goto(html.resolve().as_uri(), wait_until="load", timeout=120_000)
            page.wait_for_function("window.__mapReady === true", timeout=120_000)
            yield page, log
        finally:
            browser.close()
