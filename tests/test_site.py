"""The book: its bibliography, its folder, and the built site driven in a browser.

The browser test builds a book from a small executed notebook (one figure with a
caption in its metadata) and the project's own chapters and bibliography, then opens
every page in headless Chromium through Selenium and ChromeDriver (Debian's
``chromium`` and ``chromium-driver``; nothing is downloaded). Without a browser the
test is skipped with a message naming the packages, except in CI (``CI=true``),
where it fails.
"""

from __future__ import annotations

import glob
import os
import shutil
import time
from pathlib import Path
from urllib.parse import unquote, urlparse

import nbformat
import pandas as pd
import pytest

from tipresearch.collection.site import bibliography, bibtex, build_site, site_folder, source_key

ROOT = Path(__file__).resolve().parents[1]
BROWSER = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")


def _sources() -> set[str]:
    found: set[str] = set()
    for path in glob.glob(str(ROOT / "data" / "**" / "*.csv"), recursive=True):
        frame = pd.read_csv(path, dtype=str)
        for column in frame.columns:
            if column == "source":
                found |= set(frame[column].dropna())
    return found


def test_every_source_in_data_has_one_bibliography_entry() -> None:
    bib = bibliography(ROOT)
    sources = _sources()
    assert len(sources) > 20
    unmatched = sorted(s for s in sources if source_key(s, bib) is None)
    assert not unmatched, f"sources without a bibliography entry: {unmatched}"
    used = {source_key(s, bib) for s in sources}
    assert set(bib["key"]) - used == set(), "bibliography entries no source in data/ cites"


def test_bibtex_parses_with_every_key() -> None:
    pybtex = pytest.importorskip("pybtex.database")
    bib = bibliography(ROOT)
    parsed = pybtex.parse_string(bibtex(bib), "bibtex")
    assert set(parsed.entries) == set(bib["key"])
    assert parsed.entries["yu1999"].fields["journal"] == "Policing"


def test_variant_builds_get_their_own_folder(tmp_path: Path) -> None:
    dirs = {"figures_dir": "x", "results_dir": "y"}
    assert site_folder(tmp_path, {"01": dirs}) == tmp_path / "site"
    one = site_folder(tmp_path, {"01": {**dirs, "seed": 3}})
    two = site_folder(tmp_path, {"01": {**dirs, "seed": 4}})
    assert one.name.startswith("site-variant-") and one != two
    assert one == site_folder(tmp_path, {"01": {"seed": 3}})


def _small_run(out: Path) -> pd.DataFrame:
    """An executed notebook with one captioned figure, as run_notebooks leaves it."""
    import matplotlib

    matplotlib.use("Agg")
    import base64
    import io

    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4, 3))
    ax.plot([2008, 2009], [2566, 6513])
    ax.set_xlabel("year")
    ax.set_ylabel("cases registered")
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=80)
    plt.close(fig)
    nb = nbformat.v4.new_notebook()
    code = nbformat.v4.new_code_cell("plot()")
    code.metadata["mystnb"] = {
        "figure": {"caption": "Registered cases, 2008 and 2009.", "name": "fig-small"}
    }
    code.outputs = [
        nbformat.v4.new_output(
            "display_data", data={"image/png": base64.b64encode(buf.getvalue()).decode()}
        )
    ]
    nb.cells = [
        nbformat.v4.new_markdown_cell(
            "# A small notebook\n\nThe clearance rate, in {numref}`fig-small`."
        ),
        code,
    ]
    (out / "notebooks").mkdir(parents=True)
    (out / "html").mkdir()
    (out / "html" / "index.html").write_text("<!DOCTYPE html><title>status</title>")
    path = out / "notebooks" / "01_small.ipynb"
    nbformat.write(nb, path)
    return pd.DataFrame([{"notebook": "01_small", "status": "ok", "executed": str(path)}])


@pytest.fixture(scope="module")
def driver():
    if not (BROWSER and DRIVER):
        message = "no browser: install Debian's chromium and chromium-driver"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    webdriver = pytest.importorskip("selenium.webdriver")
    options = webdriver.ChromeOptions()
    options.binary_location = BROWSER
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    service = webdriver.ChromeService(executable_path=DRIVER)
    browser = webdriver.Chrome(options=options, service=service)
    yield browser
    browser.quit()


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    pytest.importorskip("jupyter_book")
    out = tmp_path_factory.mktemp("run")
    frame = _small_run(out)
    return build_site(frame, out, {}, root=ROOT)


def _pages(site: Path) -> list[Path]:
    skip = {"genindex.html", "search.html"}
    return sorted(p for p in site.rglob("*.html") if p.name not in skip and "_" not in p.parts[-2])


def test_site_pages_load_clean_with_images_links_and_numbered_figures(driver, site) -> None:
    pages = _pages(site)
    names = {p.relative_to(site).as_posix() for p in pages}
    assert {"index.html", "notebooks/01_small.html", "docs/model.html", "references.html"} <= names
    figures = 0
    for page in pages:
        driver.get_log("browser")  # drop what earlier pages left
        driver.get(page.as_uri())
        errors = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
        assert not errors, f"{page.name}: console errors {errors}"
        broken = driver.execute_script(
            "return Array.from(document.images)"
            ".filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.src)"
        )
        assert not broken, f"{page.name}: images that do not load {broken}"
        for href in driver.execute_script(
            "return Array.from(document.querySelectorAll('a[href]')).map(a => a.href)"
        ):
            url = urlparse(href)
            if url.scheme == "file":
                assert Path(unquote(url.path)).exists(), f"{page.name}: broken link {href}"
        for caption in driver.execute_script(
            "return Array.from(document.querySelectorAll('figure')).map(f => {"
            " const c = f.querySelector('figcaption');"
            " return f.querySelector('img') ? (c ? c.innerText : '') : 'NO IMAGE'; })"
        ):
            figures += 1
            assert caption != "NO IMAGE", f"{page.name}: a numbered figure without an image"
            assert caption.startswith("Fig. "), f"{page.name}: figure without number: {caption!r}"
            assert len(caption) > len("Fig. 1 "), f"{page.name}: figure without caption"
    assert figures >= 1
    # formulas are typeset by the MathJax served with the site (no network needed)
    driver.get((site / "docs" / "model.html").as_uri())
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if driver.execute_script("return document.querySelectorAll('mjx-container').length"):
            break
        time.sleep(0.2)
    assert driver.execute_script("return document.querySelectorAll('mjx-container').length") > 10


def test_site_search_finds_a_term(driver, site) -> None:
    driver.get((site / "search.html").as_uri() + "?q=clearance")
    deadline = time.monotonic() + 20
    found = []
    while time.monotonic() < deadline and not found:
        found = driver.execute_script(
            "return Array.from(document.querySelectorAll('#search-results li a')).map(a => a.href)"
        )
        time.sleep(0.2)
    assert any("01_small" in href or "model" in href for href in found), found


def test_landing_page_quotes_the_published_counts_and_says_what_it_lacks(site) -> None:
    text = (site / "index.html").read_text()
    assert "2,566" in text and "6,513" in text  # from data/published, not typed
    assert "holds none of the results" in text  # the small run wrote no records


def test_site_pages_are_readable_by_others(site) -> None:
    for path in [site, *site.rglob("*")]:
        mode = path.stat().st_mode & 0o777
        assert mode == (0o755 if path.is_dir() else 0o644), (path, oct(mode))
