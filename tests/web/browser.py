"""Debian's chromium, driven by selenium, from async tests.

The bot under test runs on the test's event loop, and selenium's calls block: every
call goes through `asyncio.to_thread`, so the bot answers the browser meanwhile.
The browser is found at /usr/bin (packages chromium and chromium-driver, installed by
tools/install-system-deps); without it the tests are skipped, except under CI=true,
where a missing browser is a failure.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

T = TypeVar("T")

FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--window-size=1200,900")
PHONE = (390, 844)  # a phone's CSS pixels


def _missing(what: str) -> None:
    message = f"{what}: run tools/install-system-deps (Debian's chromium, chromium-driver)"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


def chrome_driver() -> Iterator[Any]:
    """A headless chromium with its console log kept, closed at the end."""
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        _missing("selenium is not installed (pip install -e '.[test]')")
    browser = shutil.which("chromium") or "/usr/bin/chromium"
    driver_path = shutil.which("chromedriver") or "/usr/bin/chromedriver"
    if not Path(browser).exists() or not Path(driver_path).exists():
        _missing(f"no {browser} or {driver_path}")
    profile = tempfile.mkdtemp(prefix="govbot-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for flag in (*FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(executable_path=driver_path))
    driver.set_page_load_timeout(20)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


class Browser:
    """The async face of one selenium driver."""

    def __init__(self, driver: Any, base: str) -> None:
        self.driver = driver
        self.base = base

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.to_thread(fn, *args)

    async def open(self, path: str) -> None:
        await self.run(self.driver.get, path if "://" in path else self.base + path)

    async def texts(self, css: str) -> list[str]:
        def read() -> list[str]:
            from selenium.webdriver.common.by import By

            return [e.text for e in self.driver.find_elements(By.CSS_SELECTOR, css)]
        return await self.run(read)

    async def attrs(self, css: str, name: str) -> list[str]:
        def read() -> list[str]:
            from selenium.webdriver.common.by import By

            return [e.get_attribute(name) or ""
                    for e in self.driver.find_elements(By.CSS_SELECTOR, css)]
        return await self.run(read)

    async def click(self, css: str) -> None:
        """Click, and wait for the page it opens (a link or a form's submit button)."""
        def click() -> None:
            from selenium.webdriver.common.by import By
            from selenium.webdriver.support import expected_conditions as ec
            from selenium.webdriver.support.ui import WebDriverWait

            old = self.driver.find_element(By.TAG_NAME, "html")
            url = self.driver.current_url
            self.driver.find_element(By.CSS_SELECTOR, css).click()
            wait = WebDriverWait(self.driver, 30)  # a deadline: a loaded CI machine is slow
            target = url.split("#")[0]
            # A jump within the same page (an anchor) keeps the document.
            wait.until(lambda d: ec.staleness_of(old)(d) or (
                d.current_url != url and d.current_url.split("#")[0] == target))
            wait.until(lambda d: d.execute_script("return document.readyState") == "complete")
        await self.run(click)

    async def fill(self, css: str, text: str) -> None:
        def fill() -> None:
            from selenium.webdriver.common.by import By

            element = self.driver.find_element(By.CSS_SELECTOR, css)
            element.clear()
            element.send_keys(text)
        await self.run(fill)

    async def choose(self, css: str, value: str) -> None:
        def choose() -> None:
            from selenium.webdriver.common.by import By
            from selenium.webdriver.support.ui import Select

            Select(self.driver.find_element(By.CSS_SELECTOR, css)).select_by_value(value)
        await self.run(choose)

    async def script(self, js: str) -> Any:
        return await self.run(self.driver.execute_script, js)

    async def url(self) -> str:
        return await self.run(lambda: str(self.driver.current_url))

    async def console_errors(self) -> list[str]:
        """The console's errors since the last call (the log is read and emptied)."""
        entries = await self.run(self.driver.get_log, "browser")
        return [e["message"] for e in entries if e.get("level") == "SEVERE"]

    async def resize(self, width: int, height: int) -> None:
        await self.run(self.driver.set_window_size, width, height)

    async def screenshot(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        await self.run(self.driver.save_screenshot, str(path))
