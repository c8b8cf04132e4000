"""Fixtures shared by the test modules."""

from __future__ import annotations

import os

import pytest


@pytest.fixture(scope="session")
def driver():
    """Headless Chromium (Selenium), as the book's checks use it.

    Skipped with a message naming the packages when the browser or its driver is
    missing, except in CI (``CI=true``), where that fails.
    """
    from tipresearch.collection.site_check import BROWSER_PACKAGES, browser_paths, open_browser

    if not all(browser_paths()):
        message = f"no browser: install {BROWSER_PACKAGES}"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    pytest.importorskip("selenium")
    browser = open_browser()
    yield browser
    browser.quit()
