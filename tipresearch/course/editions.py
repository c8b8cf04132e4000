"""The course's two editions from one source: students without solutions, instructors with.

The course notebooks (``notebooks/course/``) mark every cell of a worked solution with
the tag ``solution``: the opening and closing of a sphinx-exercise gated solution
(``{solution-start}`` and ``{solution-end}``), the text between and the solution's code.
:func:`edition_notebook` keeps those cells for the instructor's edition and drops them
for the student's; :func:`build_edition` executes the edition's notebooks and builds a
Jupyter Book of them with sphinx-exercise, so that exercises are numbered and solutions
fold out beside them (instructors only).

:func:`solution_fragments` lists the lines of every solution (code and text), and
:func:`find_solutions` searches an edition's pages and notebooks for them, as text a
reader sees (tags removed, entities decoded, spaces collapsed): the student edition must
hold none.

References
----------
sphinx-exercise's gated directives (``solution-start``/``solution-end``) for solutions
with code cells; ``docs/teaching.md`` for the course itself.
"""

from __future__ import annotations

import html
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from tipresearch.errors import ParameterError
from tipresearch.io import write_text

__all__ = [
    "COURSE_FOLDER",
    "EDITIONS",
    "SOLUTION_TAG",
    "build_edition",
    "course_notebooks",
    "edition_notebook",
    "find_solutions",
    "solution_fragments",
]

#: The course notebooks' folder, relative to the project root.
COURSE_FOLDER = "notebooks/course"
#: The cell tag of a worked solution's cells.
SOLUTION_TAG = "solution"
#: The editions and what they hold.
EDITIONS = {"student": "exercises, hints and checks; no solutions", "instructor": "everything"}
_DIRECTIVE = re.compile(r"^(`{3,}\{solution-(start|end)\}.*|`{3,}|:class: dropdown)$")


def _check_edition(edition: str) -> str:
    if edition not in EDITIONS:
        raise ParameterError("edition", edition, f"one of {', '.join(EDITIONS)}")
    return edition


def course_notebooks(root: str | os.PathLike) -> list[Path]:
    """The course notebooks of the project at ``root``, by name."""
    folder = Path(root) / COURSE_FOLDER
    found = sorted(folder.glob("*.ipynb"))
    if not found:
        raise ParameterError("root", str(root), f"a project with notebooks in {COURSE_FOLDER}/")
    return found


def edition_notebook(path: str | os.PathLike, edition: str):  # noqa: ANN201 - a NotebookNode
    """The notebook at ``path`` as ``edition`` has it (outputs cleared)."""
    import nbformat

    _check_edition(edition)
    nb = nbformat.read(path, as_version=4)
    keep = []
    for cell in nb.cells:
        if edition == "student" and SOLUTION_TAG in cell.metadata.get("tags", []):
            continue
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
        keep.append(cell)
    nb.cells = keep
    return nb


def solution_fragments(paths: list[str | os.PathLike], min_length: int = 12) -> list[str]:
    """The lines of the notebooks' solution cells worth searching for, spaces collapsed.

    A line of ``min_length`` characters or more that is not a directive line, and that no
    cell outside a solution has (an import both share is no leak).
    """
    import nbformat

    def lines(cell) -> list[str]:  # noqa: ANN001 - a notebook cell
        return [" ".join(line.split()) for line in cell.source.splitlines()]

    solution, elsewhere = [], set()
    for path in paths:
        for cell in nbformat.read(path, as_version=4).cells:
            if SOLUTION_TAG in cell.metadata.get("tags", []):
                solution += lines(cell)
            else:
                elsewhere.update(lines(cell))
    return [
        line
        for line in dict.fromkeys(solution)
        if len(line) >= min_length and not _DIRECTIVE.match(line) and line not in elsewhere
    ]


def _visible_text(path: Path) -> str:
    """A page's or notebook's text as a reader sees it, spaces collapsed."""
    text = path.read_text(encoding="utf-8", errors="replace")
    if path.suffix == ".html":
        text = re.sub(r"(?s)<(script|style)\b.*?</\1>", " ", text)
        text = re.sub(r"<[^>]+>", "", text)
        text = html.unescape(text)
    elif path.suffix == ".ipynb":
        import json

        nb = json.loads(text)
        parts = []
        for cell in nb.get("cells", []):
            parts.append("".join(cell.get("source", "")))
            for output in cell.get("outputs", []):
                parts.append("".join(output.get("text", "")))
                for value in output.get("data", {}).values():
                    parts.append("".join(value) if isinstance(value, list) else str(value))
        text = "\n".join(parts)
    return _plain(text)


def _plain(text: str) -> str:
    """Spaces collapsed, Markdown's emphasis and code marks dropped (as a page shows it)."""
    return " ".join(text.replace("`", "").replace("**", "").split())


def find_solutions(folder: str | os.PathLike, fragments: list[str]) -> list[tuple[str, str]]:
    """``(file, fragment)`` for every solution fragment found in the folder's pages and
    notebooks (``.html`` and ``.ipynb`` files), as text a reader sees."""
    found = []
    for path in sorted(Path(folder).rglob("*")):
        if path.suffix not in (".html", ".ipynb") or not path.is_file():
            continue
        text = _visible_text(path)
        found += [(str(path), f) for f in fragments if _plain(f) in text]
    return found


#: The output type of a live widget, which a static page cannot show.
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def _without_widgets(nb):  # noqa: ANN001, ANN202 - a NotebookNode
    """The notebook without live widgets' outputs and state: a static page would fetch
    the widget manager from the network to draw them, and have no kernel to run them."""
    nb.metadata.pop("widgets", None)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = [o for o in cell.outputs if WIDGET_VIEW not in o.get("data", {})]
    return nb


def _index(edition: str, notebooks: list[str], teaching: bool) -> str:
    lines = [
        "# Why reports go unfiled: a course",
        "",
        f"This is the **{edition}'s edition**: {EDITIONS[edition]}.",
        "",
        "A course for police and policy training on how the way police are rated changes "
        "which reports become cases, built on the tipresearch model. Each exercise has a "
        "cell for the answer and a check that says whether it is right, close or wrong.",
        "",
        "To work through the notebooks yourself, download them from each page, or run the "
        "live explorer with `tipresearch explore`.",
    ]
    if teaching:
        lines += ["", "The instructor's guide is the last chapter."]
    return "\n".join(lines) + "\n"


def _toc(notebooks: list[str], teaching: bool) -> str:
    lines = ["format: jb-book", "root: index", "chapters:"]
    lines += [f"  - file: notebooks/{nb}" for nb in notebooks]
    if teaching:
        lines.append("  - file: teaching")
    return "\n".join(lines) + "\n"


def build_edition(
    edition: str,
    out: str | os.PathLike,
    root: str | os.PathLike | None = None,
    *,
    workers: int | None = None,
    timeout: float = 900.0,
    cell_timeout: float = 300.0,
) -> Path:
    """Execute the course's notebooks as ``edition`` has them and build its book.

    Parameters
    ----------
    edition : {"student", "instructor"}
        Which edition.
    out : path-like
        The edition's folder: ``out/notebooks/`` the executed notebooks (what a class
        downloads), ``out/html/`` their pages and run index, ``out/site/`` the book.
    root : path-like, optional
        The project root (default: found from the working directory).
    workers : int, optional
        Notebooks run at once.
    timeout : float
        Longest time in seconds the book build may take.
    cell_timeout : float
        Longest time in seconds one notebook cell may run; a cell that runs longer is
        taken as a lost kernel reply and its notebook is run once more
        (:func:`tipresearch.collection.runner.stalled`).

    Returns
    -------
    pathlib.Path
        ``out/site``.

    Raises
    ------
    ParameterError
        For an unknown edition.
    RuntimeError
        When a notebook fails or the book build fails (the builder's last lines).
    """
    from tipresearch.collection.runner import find_project_root, run_notebooks
    from tipresearch.collection.site import book_config

    _check_edition(edition)
    root = Path(root) if root is not None else find_project_root()
    out = Path(out).resolve()
    staging = out / ".course-source"
    shutil.rmtree(staging, ignore_errors=True)
    (staging / "notebooks").mkdir(parents=True)
    import nbformat

    sources = []
    for path in course_notebooks(root):
        target = staging / "notebooks" / path.name
        nbformat.write(edition_notebook(path, edition), target)
        sources.append(target)
    # a course cell takes seconds: one that runs for minutes has lost its kernel's reply
    frame = run_notebooks(sources, out=out, workers=workers, progress=False, timeout=cell_timeout)
    failed = frame[frame["status"] != "ok"]
    if not failed.empty:
        row = failed.iloc[0]
        raise RuntimeError(f"course notebook {row['notebook']} failed: {row['error']}")
    book = staging / "book"
    (book / "notebooks").mkdir(parents=True)
    names = []
    for row in frame.itertuples(index=False):
        nb = nbformat.read(row.executed, as_version=4)
        nbformat.write(_without_widgets(nb), book / "notebooks" / f"{row.notebook}.ipynb")
        names.append(row.notebook)
    teaching = edition == "instructor" and (root / "docs" / "teaching.md").exists()
    if teaching:
        shutil.copy2(root / "docs" / "teaching.md", book / "teaching.md")
    title = f"Why reports go unfiled: a course ({edition}'s edition)"
    write_text(book / "_config.yml", book_config(title, ("sphinx_exercise",)))
    write_text(book / "_toc.yml", _toc(names, teaching))
    write_text(book / "index.md", _index(edition, names, teaching))
    command = [
        sys.executable,
        "-c",
        "import sys; from jupyter_book.cli.main import main; sys.exit(main())",
        "build",
        str(book),
        "--path-output",
        str(staging / "build"),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
    html_dir = staging / "build" / "_build" / "html"
    if done.returncode != 0 or not (html_dir / "index.html").exists():
        tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-15:])
        raise RuntimeError(f"the course book failed (exit {done.returncode}):\n{tail}")
    site = out / "site"
    shutil.rmtree(site, ignore_errors=True)
    html_dir.rename(site)
    shutil.rmtree(staging, ignore_errors=True)
    for path in site.rglob("*"):
        path.chmod(0o755 if path.is_dir() else 0o644)
    site.chmod(0o755)
    return site
