"""The HTML index of a run: title, summary, status and run time of every notebook."""

from __future__ import annotations

import html
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from tipresearch.io import write_text

from .params import FIGURES_DIR, RESULTS_DIR

__all__ = ["describe_notebook", "summary_line", "write_index"]

_DIRS = (FIGURES_DIR, RESULTS_DIR)


# --------------------------------------------------------------------------- describing


def _plain(markdown: str) -> str:
    """One line of text from a Markdown paragraph (links → their text, no markup)."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", markdown)
    text = text.replace("**", "").replace("`", "")
    return " ".join(text.split())


def describe_notebook(nb: Any, fallback: str) -> tuple[str, str]:
    """Return a notebook's title and one-line summary.

    The title is the first Markdown ``# `` heading (``fallback`` when there is none);
    the summary is the notebook metadata ``tipresearch.summary`` when present, else the
    first Markdown paragraph after the title.
    """
    title, summary = None, ""
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            continue
        lines = cell.source.splitlines()
        if title is None:
            for i, line in enumerate(lines):
                if line.startswith("# "):
                    title = line[2:].strip()
                    lines = lines[i + 1 :]
                    break
            else:
                continue
        paragraphs = re.split(r"\n\s*\n", "\n".join(lines))
        for para in paragraphs:
            para = para.strip()
            if para and not para.startswith("#"):
                summary = _plain(para)
                break
        if summary:
            break
    meta = nb.metadata.get("tipresearch", {})
    if isinstance(meta, dict) and meta.get("summary"):
        summary = _plain(str(meta["summary"]))
    return (title or fallback), summary


def summary_line(frame: pd.DataFrame) -> str:
    """``3 notebooks: 2 ok, 1 failed (01_x)`` for a run's frame.

    The frame is the one :func:`~tipresearch.collection.runner.run_notebooks` returns.
    """
    failed = frame.loc[frame["status"] != "ok", "notebook"].tolist()
    n = len(frame)
    line = f"{n} notebook{'s' if n != 1 else ''}: {n - len(failed)} ok, {len(failed)} failed"
    if failed:
        line += f" ({', '.join(failed)})"
    return line


# --------------------------------------------------------------------------- index

_INDEX_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 60rem; color: #222; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; vertical-align: top; padding: 0.5rem; border-bottom: 1px solid #ddd; }
td.seconds { text-align: right; white-space: nowrap; }
.ok { color: #1a7f37; } .failed { color: #cf222e; font-weight: bold; }
.error { color: #cf222e; font-family: monospace; font-size: 0.9em; }
.summary { color: #444; } code { font-size: 0.85em; }
"""


def write_index(
    frame: pd.DataFrame,
    path: str | os.PathLike,
    parameters: Mapping[str, Mapping[str, Any]] | None = None,
) -> Path:
    """Write the HTML index of a run (atomically).

    Parameters
    ----------
    frame : pandas.DataFrame
        The frame returned by :func:`~tipresearch.collection.runner.run_notebooks`.
    path : path-like
        The index file, normally ``<out>/html/index.html``; links are relative to it.
    parameters : mapping, optional
        ``{notebook stem: {name: value}}`` passed to each notebook, listed under it.

    Returns
    -------
    pathlib.Path
        The index file.
    """
    import nbformat

    path = Path(path)
    rows = []
    for row in frame.itertuples(index=False):
        try:
            nb = nbformat.read(row.path, as_version=4)
            title, summary = describe_notebook(nb, row.notebook)
        except Exception:  # the source vanished or is unreadable: still list the run
            title, summary = row.notebook, ""
        name = html.escape(title)
        if isinstance(row.html, str):
            link = os.path.relpath(row.html, path.parent).replace(os.sep, "/")
            name = f'<a href="{html.escape(link)}">{name}</a>'
        status = html.escape(row.status)
        cell = f'<span class="{status}">{status}</span>'
        if isinstance(row.error, str):
            cell += f'<div class="error">{html.escape(str(row.error))}</div>'
        used = (parameters or {}).get(row.notebook, {})
        shown = ", ".join(f"{k} = {v!r}" for k, v in used.items() if k not in _DIRS)
        extra = f"<div><code>{html.escape(shown)}</code></div>" if shown else ""
        seconds = f"{row.seconds:.1f}" if row.seconds == row.seconds else "?"
        rows.append(
            "<tr>"
            f"<td>{name}<div><code>{html.escape(row.notebook)}</code></div></td>"
            f'<td class="summary">{html.escape(summary)}{extra}</td>'
            f"<td>{cell}</td>"
            f'<td class="seconds">{seconds}</td>'
            "</tr>"
        )
    page = "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en">',
            '<head><meta charset="utf-8"><title>tipresearch notebooks</title>',
            f"<style>{_INDEX_STYLE}</style></head>",
            "<body>",
            "<h1>tipresearch notebooks</h1>",
            f"<p>{html.escape(summary_line(frame))}</p>",
            "<table>",
            "<thead><tr><th>Notebook</th><th>Summary</th><th>Status</th>"
            "<th>Time (s)</th></tr></thead>",
            "<tbody>",
            *rows,
            "</tbody>",
            "</table>",
            "</body>",
            "</html>",
            "",
        ]
    )
    return write_text(path, page)
