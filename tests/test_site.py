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
import shutil
from pathlib import Path

import nbformat
import pandas as pd
import pytest

from tipresearch.collection.site import bibliography, bibtex, build_site, site_folder, source_key

ROOT = Path(__file__).resolve().parents[1]


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
def site(tmp_path_factory) -> Path:
    pytest.importorskip("jupyter_book")
    out = tmp_path_factory.mktemp("run")
    frame = _small_run(out)
    return build_site(frame, out, {}, root=ROOT)


def test_the_built_book_has_no_problem_a_reader_would_meet(driver, site) -> None:
    from tipresearch.collection.site_check import check_site

    pages = {p.relative_to(site).as_posix() for p in site.rglob("*.html")}
    assert {"index.html", "notebooks/01_small.html", "docs/model.html", "references.html"} <= pages
    report = check_site(site, "clearance", driver=driver)
    assert report.problems == []
    assert report.pages >= 6 and report.figures >= 1 and report.search_hits >= 1
    # formulas are typeset by the MathJax served with the site (no network needed)
    # (typesetting runs after the page has loaded: on a busy machine it takes seconds)
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get((site / "docs" / "model.html").as_uri())
    count = "return document.querySelectorAll('mjx-container').length"
    WebDriverWait(driver, 60, poll_frequency=0.5).until(lambda d: d.execute_script(count) > 10)


def test_the_checker_finds_what_is_broken(driver, site, tmp_path) -> None:
    from tipresearch.collection.site_check import check_site

    broken = tmp_path / "site"
    shutil.copytree(site, broken)
    page = broken / "notebooks" / "01_small.html"
    html = page.read_text(encoding="utf-8")
    page.write_text(
        html.replace("</body>", '<a href="missing.html">x</a><img src="none.png"></body>'),
        encoding="utf-8",
    )
    (broken / "references.html").chmod(0o600)
    report = check_site(broken, "clearance", driver=driver)
    text = "\n".join(report.problems)
    assert "broken link" in text and "missing.html" in text
    assert "image does not load" in text and "none.png" in text
    assert "references.html: mode 0o600" in text


def test_landing_page_quotes_the_published_counts_and_says_what_it_lacks(site) -> None:
    text = (site / "index.html").read_text()
    assert "2,566" in text and "6,513" in text  # from data/published, not typed
    assert "holds none of the results" in text  # the small run wrote no records
