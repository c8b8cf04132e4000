"""Open a built book in headless Chromium and report what a reader would stumble on.

:func:`check_site` drives Debian's ``chromium`` through ``chromedriver`` (Selenium; no
browser is downloaded) over every page of a book built by
:func:`tipresearch.collection.site.build_site` and lists the problems: console errors,
images that do not load, internal links to files that do not exist, numbered figures
without an image or a caption, formulas left untypeset, a search that finds nothing,
and files others cannot read. ``tipresearch check-site DIR`` runs it; the browser test
of the book uses it too.
"""

from __future__ import annotations

import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlparse

from tipresearch.errors import ParameterError

__all__ = ["BROWSER_PACKAGES", "SiteReport", "browser_paths", "check_site", "open_browser"]

#: What to install where the browser is missing.
BROWSER_PACKAGES = (
    "Debian's chromium and chromium-driver (apt-get install chromium chromium-driver)"
)

_SKIP = {"genindex.html", "search.html"}

_FIGURES_JS = (
    "return Array.from(document.querySelectorAll('figure')).map(f => {"
    " const c = f.querySelector('figcaption');"
    " return f.querySelector('img') ? (c ? c.innerText : '') : 'NO IMAGE'; })"
)
_IMAGES_JS = (
    "return Array.from(document.images)"
    ".filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.src)"
)
_LINKS_JS = "return Array.from(document.querySelectorAll('a[href]')).map(a => a.href)"
_MATH_JS = "return document.querySelectorAll('mjx-container').length"
_SEARCH_JS = "return Array.from(document.querySelectorAll('#search-results li a')).map(a => a.href)"


@dataclass
class SiteReport:
    """What :func:`check_site` found.

    Attributes
    ----------
    pages, figures, search_hits : int
        Pages opened, numbered figures seen, pages the search found.
    problems : list of str
        One line per problem (empty when the site is clean).
    """

    pages: int = 0
    figures: int = 0
    search_hits: int = 0
    problems: list[str] = field(default_factory=list)


def browser_paths() -> tuple[str | None, str | None]:
    """The Chromium binary and ChromeDriver on ``PATH`` (None where missing)."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    return browser, shutil.which("chromedriver")


def open_browser():  # noqa: ANN201 - a selenium WebDriver, imported lazily
    """Headless Chromium with its console log kept.

    Raises
    ------
    RuntimeError
        Naming :data:`BROWSER_PACKAGES` when the browser, its driver or Selenium is
        missing.
    """
    browser, driver = browser_paths()
    try:
        from selenium import webdriver
    except ImportError as exc:
        raise RuntimeError("no selenium: install the dev extra (pip install -e .[dev])") from exc
    if not (browser and driver):
        raise RuntimeError(f"no browser: install {BROWSER_PACKAGES}")
    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(options=options, service=webdriver.ChromeService(driver))


def _wait(driver, script: str, timeout: float):  # noqa: ANN001, ANN202
    deadline = time.monotonic() + timeout
    value = driver.execute_script(script)
    while not value and time.monotonic() < deadline:
        time.sleep(0.2)
        value = driver.execute_script(script)
    return value


def check_site(
    folder: str | os.PathLike,
    search_term: str = "clearance",
    *,
    driver=None,  # noqa: ANN001 - a selenium WebDriver
    timeout: float = 20.0,
) -> SiteReport:
    """Open every page of a built book and list what is wrong with it.

    Parameters
    ----------
    folder : path-like
        The book (``build/site``).
    search_term : str
        A word the search must find on some page.
    driver : selenium WebDriver, optional
        An open browser (default: :func:`open_browser`, closed afterwards).
    timeout : float
        Seconds to wait for the search results and the typeset formulas.

    Returns
    -------
    SiteReport
    """
    folder = Path(folder).resolve()
    if not (folder / "index.html").is_file():
        raise ParameterError("folder", str(folder), "a built book (a folder holding index.html)")
    own = driver is None
    driver = open_browser() if own else driver
    report = SiteReport()
    try:
        pages = sorted(
            p
            for p in folder.rglob("*.html")
            if p.name not in _SKIP and not any(part.startswith("_") for part in p.parts)
        )
        for page in pages:
            name = page.relative_to(folder).as_posix()
            driver.get_log("browser")  # drop what earlier pages left
            driver.get(page.as_uri())
            if name.startswith("docs/") and "$" in page.read_text(encoding="utf-8"):
                if not _wait(driver, _MATH_JS, timeout):
                    report.problems.append(f"{name}: formulas not typeset")
            report.problems += [
                f"{name}: console error: {e['message'][:200]}"
                for e in driver.get_log("browser")
                if e["level"] == "SEVERE"
            ]
            report.problems += [
                f"{name}: image does not load: {src}" for src in driver.execute_script(_IMAGES_JS)
            ]
            for href in driver.execute_script(_LINKS_JS):
                url = urlparse(href)
                if url.scheme == "file" and not Path(unquote(url.path)).exists():
                    report.problems.append(f"{name}: broken link: {href}")
            for caption in driver.execute_script(_FIGURES_JS):
                report.figures += 1
                if caption == "NO IMAGE":
                    report.problems.append(f"{name}: a numbered figure without an image")
                elif not caption.startswith("Fig. ") or len(caption) <= len("Fig. 1 "):
                    report.problems.append(f"{name}: figure without number or caption: {caption!r}")
            report.pages += 1
        driver.get((folder / "search.html").as_uri() + f"?q={search_term}")
        report.search_hits = len(_wait(driver, _SEARCH_JS, timeout) or [])
        if not report.search_hits:
            report.problems.append(f"search finds nothing for {search_term!r}")
    finally:
        if own:
            driver.quit()
    for path in [folder, *folder.rglob("*")]:
        mode = path.stat().st_mode & 0o777
        wanted = 0o755 if path.is_dir() else 0o644
        if mode != wanted:
            report.problems.append(
                f"{path.relative_to(folder)}: mode {oct(mode)}, not {oct(wanted)}"
            )
    return report
