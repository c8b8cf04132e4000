"""The collection as a book: a Jupyter Book 1 site over the notebooks a run executed.

:func:`build_site` writes a book source folder from what :func:`run_notebooks` left in
its output folder (the executed notebooks, their figures and records) and the project's
documentation and data, then builds it with Jupyter Book 1 (Sphinx and myst-nb,
execution off, so nothing runs twice):

    <out>/site/index.html      landing page: the question, the answer with the run's
                               own numbers, the key figures, how to cite, downloads
    <out>/site/notebooks/...   one page per executed notebook
    <out>/site/docs/...        the model, the sweeps and the fit, as chapters
    <out>/site/references.html the bibliography, from data/sources/bibliography.csv

A run whose notebooks received parameters of their own (``-p``/``-f``) is a variant:
its book goes to ``<out>/site-variant-<hash>`` and its landing page names the
parameters. The run-status page (``<out>/html/index.html``) stays as it is and is
linked from the landing page.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from tipresearch.data import load_published, published_value
from tipresearch.errors import DataFileError
from tipresearch.io import write_text

from .params import FIGURES_DIR, RESULTS_DIR
from .provenance import environment

__all__ = [
    "BOOK_EXTENSIONS",
    "book_config",
    "BIBLIOGRAPHY",
    "CHAPTERS",
    "KEY_FIGURES",
    "bibliography",
    "build_site",
    "bibtex",
    "site_folder",
    "source_key",
]

#: The bibliography every source in ``data/`` maps to (relative to the project root).
BIBLIOGRAPHY = "data/sources/bibliography.csv"

#: Documentation pages that become chapters, in order.
CHAPTERS = ("docs/model.md", "docs/sweeps.md", "docs/fit.md", "docs/estimation.md")

#: Figures shown on the landing page: file stem in ``figures/`` and its caption.
KEY_FIGURES = (
    (
        "03_fit_series",
        "Trafficking cases registered and solved in China per year: the fitted model "
        "against the published figures (notebook 3).",
    ),
    (
        "02_metric_outcomes",
        "Share of reports opened, clearance rate and victims rescued under each way of "
        "rating a bureau (notebook 2).",
    ),
)

_DIRS = (FIGURES_DIR, RESULTS_DIR)
_DATA_SUFFIXES = (".csv", ".json", ".md")


def bibliography(root: str | os.PathLike) -> pd.DataFrame:
    """The project's bibliography: one row per work, with the source strings it covers.

    Parameters
    ----------
    root : path-like
        The project root.

    Returns
    -------
    pandas.DataFrame
        ``key, type, author, title, container, year, note, matches`` (``matches``: the
        starts of the ``source`` strings in ``data/`` that cite this work, ``|``-separated).

    Raises
    ------
    DataFileError
        For a missing column, an empty key or a duplicate key.
    """
    path = Path(root) / BIBLIOGRAPHY
    bib = pd.read_csv(path, dtype=str, keep_default_na=False)
    needed = ["key", "type", "author", "title", "container", "year", "note", "matches"]
    missing = [c for c in needed if c not in bib.columns]
    if missing:
        raise DataFileError(str(path), f"missing columns {missing}")
    if (bib["key"] == "").any() or bib["key"].duplicated().any():
        raise DataFileError(str(path), "every key must be present and unique")
    return bib


def source_key(source: str, bib: pd.DataFrame) -> str | None:
    """The bibliography key of a ``source`` string of ``data/`` (the longest match wins)."""
    best, length = None, 0
    for key, matches in zip(bib["key"], bib["matches"], strict=True):
        for start in matches.split("|"):
            if start and source.startswith(start) and len(start) > length:
                best, length = key, len(start)
    return best


def bibtex(bib: pd.DataFrame) -> str:
    """BibTeX entries for :func:`bibliography` (braces protect capitals and names)."""
    kinds = {"article": "article", "book": "book", "report": "techreport", "misc": "misc"}
    container = {"article": "journal", "book": "publisher", "report": "institution"}
    entries = []
    for row in bib.itertuples(index=False):
        kind = kinds.get(row.type, "misc")
        fields = {"author": f"{{{row.author}}}" if " and " not in row.author else row.author}
        if row.title:
            fields["title"] = f"{{{row.title}}}"
        if row.container:
            fields[container.get(row.type, "howpublished")] = row.container
        if kind in ("techreport", "book"):
            fields.setdefault(container[row.type], row.author)
        fields["year"] = row.year
        if row.note:
            fields["note"] = row.note
        body = ",\n".join(f"  {k} = {{{v}}}" for k, v in fields.items())
        entries.append(f"@{kind}{{{row.key},\n{body}\n}}\n")
    return "\n".join(entries)


def site_folder(out: str | os.PathLike, parameters: Mapping[str, Mapping[str, Any]]) -> Path:
    """``<out>/site``, or ``<out>/site-variant-<hash>`` when notebooks got parameters."""
    given = _given(parameters)
    if not given:
        return Path(out) / "site"
    digest = hashlib.sha256(json.dumps(given, sort_keys=True, default=str).encode()).hexdigest()
    return Path(out) / f"site-variant-{digest[:8]}"


def _given(parameters: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    return {
        nb: {k: v for k, v in values.items() if k not in _DIRS}
        for nb, values in parameters.items()
        if any(k not in _DIRS for k in values)
    }


def _records(out: Path, notebooks: list[str]) -> dict[str, dict[str, Any]]:
    """Each notebook's key results from its run record (none where it left none)."""
    from .records import read_record  # records imports the runner, which imports this

    records = {}
    for name in notebooks:
        try:
            results = read_record(out / "results" / f"{name}.json").get("results")
        except DataFileError:
            continue
        if isinstance(results, dict):
            records[name] = results
    return records


def _landing_page(
    frame: pd.DataFrame,
    records: Mapping[str, Mapping[str, Any]],
    given: Mapping[str, Mapping[str, Any]],
    figures: list[tuple[str, str]],
    status_link: str,
    env: Mapping[str, Any],
) -> str:
    r3 = records.get("03_reforms_2008_2015", {})
    r4 = records.get("04_sweeps_and_sensitivity", {})
    published = load_published()
    before = published_value(published, "cn_reg_traf_2008")
    after = published_value(published, "cn_reg_traf_2009")
    lines = [
        "# How police ratings change which reports become cases",
        "",
        "**The question.** Police leaders in China were rated on the cases they solved, "
        "not the cases they opened, and perhaps for that reason avoided opening hard "
        "trafficking and missing-person cases (09BEIJING2594 ¶9 {cite:p}`cable09beijing2594`). "
        "From 2009 missing-person reports were to be handled as criminal cases at once "
        f"(¶7), and registered trafficking cases rose from {before:,.0f} in 2008 to "
        f"{after:,.0f} in 2009 {{cite:p}}`nbs2010yearbook`. This collection asks how the "
        "way a bureau is rated (cases solved, the clearance rate, or cases opened) "
        "changes which reports it "
        "turns into cases, with a model of that choice fitted to China's published figures.",
        "",
    ]
    r2 = records.get("02_metrics_and_intake", {})
    answer = ["**The answer, from this build.**"]
    intake, clearance = r2.get("intake_rate", {}), r2.get("clearance_rate", {})
    lost, gap = r2.get("rescues_lost_share", {}), r2.get("solvability_gap_opened_declined", {})
    rules = ("opened_count", "solved_count", "clearance_rate")
    if all(isinstance(intake.get(k), int | float) for k in rules):
        answer.append(
            "In the model at its default parameters (notebook 2), a bureau rated on cases "
            f"opened opens {intake['opened_count']:.0%} of the reports it receives, one rated "
            f"on cases solved {intake['solved_count']:.0%}, and one rated on its clearance "
            f"rate {intake['clearance_rate']:.0%}."
        )
        if all(isinstance(clearance.get(k), int | float) for k in rules):
            answer.append(
                "The clearance rate moves the other way: "
                f"{clearance['opened_count']:.0%}, {clearance['solved_count']:.0%} and "
                f"{clearance['clearance_rate']:.0%}."
            )
    if all(isinstance(gap.get(k), int | float) for k in ("women", "children")):
        answer.append(
            "The reports left unrecorded are the hard ones: the mean solvability of opened "
            f"reports exceeds that of declined ones by {gap['women']:.2f} (women) and "
            f"{gap['children']:.2f} (children)."
        )
    if isinstance(lost.get("clearance_rate"), int | float):
        answer.append(
            "Rated on its clearance rate, a bureau rescues "
            f"{lost['clearance_rate']:.0%} fewer victims than under the rule of a planner who "
            "values every rescue."
        )
    ratio = r3.get("registered_2009_over_2008_rated_on_solved_only")
    if isinstance(ratio, int | float):
        answer.append(
            "In the fitted model, with the clearance rate's weight removed (a rating on "
            f"cases solved alone), registered cases would have changed by a factor of "
            f"{ratio:.2f} from 2008 to 2009, against {after:,.0f} / {before:,.0f} = "
            f"{after / before:.2f} published."
        )
    top = r4.get("top_lever")
    if isinstance(top, dict) and "intake_rate" in top:
        answer.append(
            "Of the eight levers of notebook 4, the one that moves the share of reports "
            f"opened most (largest total Sobol' index) is the {lever_label(top['intake_rate'])}."
        )
    if len(answer) == 1:
        answer.append(
            "This build holds none of the results the answer is drawn from (notebooks 2 to "
            "4 write them); the notebooks below give what it has."
        )
    lines += [" ".join(answer), ""]
    if given:
        lines += [
            "```{note}",
            "This is a variant build. Parameters that differ from the notebooks' own:",
        ]
        for nb, values in given.items():
            shown = ", ".join(f"`{k} = {v!r}`" for k, v in values.items())
            lines.append(f"- {nb}: {shown}")
        lines += ["```", ""]
    for stem, caption in figures:
        lines += [
            f"```{{figure}} figures/{stem}.png",
            f":name: fig-landing-{stem.replace('_', '-')}",
            ":width: 100%",
            "",
            caption,
            "```",
            "",
        ]
    ok = int((frame["status"] == "ok").sum())
    lines += [
        "## The notebooks",
        "",
        f"{ok} of {len(frame)} notebooks ran without error in this build; the "
        f'<a href="{status_link}">run-status page</a> gives each one\'s status, '
        "parameters and time. Each page has a download button for its notebook.",
        "",
        "## Reproducing this build",
        "",
        "From a clone of the repository, with Python 3.11 and pip: `make run` builds "
        "the collection and this site, `make test` runs the tests. The environment: "
        "{download}`environment.yml <environment.yml>`; every package at the exact "
        "version this build used: {download}`requirements/lock.txt <requirements/lock.txt>`.",
        "",
        _made_with(env),
        "",
        "## How to cite",
        "",
        "Cite the collection as in {download}`CITATION.cff <CITATION.cff>`, and the "
        "sources of the figures you use ({doc}`references`): the cable 09BEIJING2594 by "
        "paragraph, the others as listed with each figure in `data/`. The code is under "
        "the MIT licence ({download}`LICENSE <LICENSE>`); the data files keep their "
        "sources' terms.",
        "",
    ]
    return "\n".join(lines)


def _made_with(env: Mapping[str, Any]) -> str:
    commit = env.get("commit")
    where = (
        f"from commit `{commit[:12]}`"
        + (" with changes to tracked files" if env.get("modified") else "")
        if commit
        else "outside a git checkout"
    )
    rows = "\n".join(f"| {name} | {version} |" for name, version in env["packages"].items())
    return (
        f"This build was made {where}, with Python {env['python']}; every executed "
        "notebook and run record names the same (metadata `tipresearch.environment`).\n\n"
        ":::{dropdown} Package versions\n| package | version |\n| --- | --- |\n"
        f"{rows}\n:::"
    )


def lever_label(name: str, spec: str | os.PathLike | None = None) -> str:
    """A sweep lever's label in plain words, from the sweep's spec (its name if none)."""
    from tipresearch.errors import ParameterError
    from tipresearch.experiments import load_spec

    from .runner import find_project_root

    path = Path(spec) if spec else find_project_root() / "experiments" / "levers_sobol.yaml"
    try:
        space = load_spec(path).space
        label = next(p.display for p in space.parameters if p.name == name)
    except (OSError, ParameterError, DataFileError, StopIteration):
        return f"`{name}`"
    return label.split(" (")[0]


#: The Sphinx extensions of every book: Jupyter Book's own list without sphinx_thebe,
#: whose script is written twice on every page (a console error; nothing here runs code
#: in the browser), and with MathJax served with the site, so formulas render offline.
BOOK_EXTENSIONS = (
    "sphinx_togglebutton",
    "sphinx_copybutton",
    "myst_nb",
    "jupyter_book",
    "sphinx_comments",
    "sphinx_external_toc",
    "sphinx.ext.intersphinx",
    "sphinx_design",
    "sphinx_book_theme",
    "sphinx-mathjax-offline",
)


def book_config(title: str, extensions: tuple[str, ...] = (), *, bibtex: bool = False) -> str:
    """A Jupyter Book ``_config.yml``: the collection's settings, :data:`BOOK_EXTENSIONS`
    and ``extensions``; with ``bibtex``, the bibliography in ``references.bib``."""
    names = [*BOOK_EXTENSIONS, *extensions, *(["sphinxcontrib.bibtex"] if bibtex else [])]
    listed = "\n".join(f"      - {name}" for name in names)
    bib = "bibtex_bibfiles:\n  - references.bib\n" if bibtex else ""
    bib_style = "    bibtex_reference_style: author_year\n" if bibtex else ""
    return f"""title: "{title}"
author: The tipresearch contributors
copyright: "2026"
only_build_toc_files: true
execute:
  execute_notebooks: "off"
{bib}html:
  use_download_button: true
  home_page_in_navbar: true
parse:
  myst_enable_extensions:
    - amsmath
    - colon_fence
    - dollarmath
sphinx:
  config:
    extensions:
{listed}
    html_context:
      default_mode: light
    numfig: true
{bib_style}    html_show_copyright: false
    nb_merge_streams: true
    myst_heading_anchors: 4
"""


def _toc(notebooks: list[str], chapters: list[str]) -> str:
    lines = ["format: jb-book", "root: index", "parts:", "  - caption: Notebooks", "    chapters:"]
    lines += [f"      - file: notebooks/{nb}" for nb in notebooks]
    lines += ["  - caption: The model", "    chapters:"]
    lines += [f"      - file: {c}" for c in chapters]
    lines += ["  - caption: Sources", "    chapters:", "      - file: references", ""]
    return "\n".join(lines)


def build_site(
    frame: pd.DataFrame,
    out: str | os.PathLike,
    parameters: Mapping[str, Mapping[str, Any]] | None = None,
    root: str | os.PathLike | None = None,
    *,
    env: Mapping[str, Any] | None = None,
    timeout: float = 900.0,
) -> Path:
    """Build the book of a run into :func:`site_folder` and return that folder.

    Parameters
    ----------
    frame : pandas.DataFrame
        What :func:`~tipresearch.collection.runner.run_notebooks` returned; its
        ``executed`` notebooks are the book's pages.
    out : path-like
        The run's output folder.
    parameters : mapping, optional
        ``{notebook: {name: value}}`` the notebooks received.
    root : path-like, optional
        The project root (default: found from the working directory).
    env : mapping, optional
        The run's :func:`tipresearch.collection.provenance.environment` (worked out
        here when not given).
    timeout : float
        Longest time in seconds the book build may take.

    Raises
    ------
    RuntimeError
        When the build fails; the message ends with the builder's last lines.
    """
    from .runner import find_project_root

    out = Path(out).resolve()
    root = Path(root) if root is not None else find_project_root()
    parameters = parameters or {}
    target = site_folder(out, parameters)
    src = out / ".site-source"
    shutil.rmtree(src, ignore_errors=True)
    (src / "notebooks").mkdir(parents=True)
    notebooks = []
    for row in frame.itertuples(index=False):
        if isinstance(row.executed, str) and Path(row.executed).exists():
            _reader_copy(Path(row.executed), src / "notebooks" / f"{row.notebook}.ipynb", out, root)
            notebooks.append(row.notebook)
    chapters = []
    for chapter in CHAPTERS:
        if (root / chapter).exists():
            (src / chapter).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(root / chapter, src / chapter)
            chapters.append(chapter[: -len(".md")])
    for name in ("environment.yml", "CITATION.cff", "LICENSE", "requirements/lock.txt"):
        if (root / name).exists():
            (src / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(root / name, src / name)
    (src / "figures").mkdir()
    figures = []
    for stem, caption in KEY_FIGURES:
        png = out / "figures" / f"{stem}.png"
        if png.exists():
            shutil.copy2(png, src / "figures" / png.name)
            figures.append((stem, caption))
    bib = bibliography(root)
    write_text(src / "references.bib", bibtex(bib))
    write_text(
        src / "references.md",
        "# References\n\nThe works the figures in `data/` come from, and the works the "
        "pages cite.\n\n```{bibliography}\n:all:\n```\n",
    )
    status = os.path.relpath(out / "html" / "index.html", target).replace(os.sep, "/")
    records = _records(out, notebooks)
    env = environment(root) if env is None else env
    page = _landing_page(frame, records, _given(parameters), figures, status, env)
    write_text(src / "index.md", page)
    title = "How police ratings change which reports become cases"
    write_text(src / "_config.yml", book_config(title, bibtex=True))
    write_text(src / "_toc.yml", _toc(notebooks, chapters))
    staging = out / ".site-build"
    shutil.rmtree(staging, ignore_errors=True)
    command = [
        sys.executable,
        "-c",
        "import sys; from jupyter_book.cli.main import main; sys.exit(main())",
        "build",
        str(src),
        "--path-output",
        str(staging),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
    html = staging / "_build" / "html"
    if done.returncode != 0 or not (html / "index.html").exists():
        tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-15:])
        raise RuntimeError(f"the book build failed (exit {done.returncode}):\n{tail}")
    old = target.with_name(target.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if target.exists():
        target.rename(old)
    html.rename(target)
    shutil.rmtree(old, ignore_errors=True)
    shutil.rmtree(staging, ignore_errors=True)
    shutil.rmtree(src, ignore_errors=True)
    _readable(target)
    return target


def _reader_copy(executed: Path, target: Path, out: Path, root: Path) -> None:
    """The book's copy of an executed notebook: code folded, no absolute paths.

    Every code cell gets the ``hide-input`` tag (its code behind a toggle, its output
    shown: the reader's edition), and the run's output folder in the cell papermill
    injected is written relative to the notebooks' folder, as in the notebook's own
    parameters cell.
    """
    import nbformat

    nb = nbformat.read(executed, as_version=4)
    relative = os.path.relpath(out, root / "notebooks").replace(os.sep, "/")
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        tags = cell.metadata.setdefault("tags", [])
        if "hide-input" not in tags:
            tags.append("hide-input")
        if "injected-parameters" in tags:
            cell.source = cell.source.replace(str(out), relative)
    nbformat.write(nb, target)


def _readable(folder: Path) -> None:
    """Give the built pages the usual permissions (folders 0755, files 0644)."""
    for path in folder.rglob("*"):
        path.chmod(0o755 if path.is_dir() else 0o644)
    folder.chmod(0o755)
