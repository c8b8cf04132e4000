"""One look for every figure in the collection: theme, colours, resolution and saving.

:func:`set_theme` sets the seaborn theme and the savefig defaults once per
notebook; :data:`CASE_TYPE_COLOURS` gives each case type the same colour in every
figure; :func:`save_figure` writes a PNG atomically into the figures folder.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import matplotlib as mpl
import seaborn as sns
from matplotlib.figure import Figure

from tipresearch.checks import check_int
from tipresearch.errors import ParameterError
from tipresearch.io import atomic_write

from .layout import text_problems

__all__ = [
    "CASE_TYPE_COLOURS",
    "CASE_TYPE_NAMES",
    "CONFIDENCE_COLOURS",
    "DEFAULT_DPI",
    "DPI_RANGE",
    "THEME",
    "check_dpi",
    "check_figure_name",
    "has_title",
    "save_figure",
    "separate_thousands",
    "set_theme",
]

#: Seaborn theme shared by every notebook.
THEME: dict[str, str] = {"context": "notebook", "style": "whitegrid", "palette": "colorblind"}
#: Resolution range accepted for saved figures (dots per inch).
DPI_RANGE: tuple[int, int] = (50, 600)
DEFAULT_DPI = 150

#: One colour per case type (seaborn's colour-blind palette), used by all notebooks.
CASE_TYPE_COLOURS: dict[str, str] = {
    "women": "#0173b2",
    "children": "#de8f05",
    "all": "#949494",
}
#: Plain-language names of the case types on figures.
CASE_TYPE_NAMES: dict[str, str] = {"women": "women", "children": "children", "all": "both types"}

#: Colour per source confidence level.
CONFIDENCE_COLOURS: dict[str, str] = {
    "primary": "#029e73",
    "secondary": "#cc78bc",
    "seed": "#d55e00",
}


def check_dpi(dpi: object) -> int:
    """Return ``dpi`` if it is an integer in :data:`DPI_RANGE`.

    Raises
    ------
    ParameterError
        Otherwise.
    """
    return check_int("dpi", dpi, *DPI_RANGE)


#: Rating rules in plain words, for figures (the presets of
#: :data:`tipresearch.model.metrics.PRESETS` and the planner; ``docs/model.md`` §2.2).
METRIC_LABELS: dict[str, str] = {
    "solved_count": "cases solved",
    "clearance_rate": "clearance rate",
    "opened_count": "cases opened",
    "balanced": "balanced",
    "clearance_target": "clearance target",
    "planner": "social planner",
}


def metric_label(name: object) -> str:
    """A rating rule's name in plain words (the name itself when it has none)."""
    return METRIC_LABELS.get(str(name), str(name).replace("_", " "))


class FigureLayoutWarning(UserWarning):
    """Text in a saved figure overlaps other text or runs outside the figure."""


def set_theme(dpi: int = DEFAULT_DPI) -> None:
    """Set the collection's seaborn theme and savefig defaults.

    It sets the same settings to the same values each time, so calling it again
    changes nothing.

    Parameters
    ----------
    dpi : int
        Resolution of saved figures, in :data:`DPI_RANGE`.

    Raises
    ------
    ParameterError
        If ``dpi`` is not an integer in :data:`DPI_RANGE`.
    """
    dpi = check_dpi(dpi)
    sns.set_theme(**THEME, rc={"savefig.dpi": dpi, "savefig.bbox": "tight", "figure.dpi": 100})
    mpl.rcParams["savefig.dpi"] = dpi
    mpl.rcParams["savefig.bbox"] = "tight"
    mpl.rcParams["savefig.format"] = "png"
    mpl.rcParams["axes.titleweight"] = "bold"


def check_figure_name(name: object) -> str:
    """Return a figure name fit for a file name, adding ``.png`` if it has no suffix.

    Raises
    ------
    ParameterError
        If ``name`` is not a string, is empty, contains a path separator, is
        ``.`` or ``..``, or ends in a suffix other than ``.png``.
    """
    allowed = "a non-empty file name without path separators, ending in .png or no suffix"
    if not isinstance(name, str) or not name.strip() or name.strip(".") == "":
        raise ParameterError("name", name, allowed)
    separators = {"/", "\\", os.sep} | ({os.altsep} if os.altsep else set())
    if any(sep in name for sep in separators) or "\0" in name:
        raise ParameterError("name", name, allowed)
    suffix = Path(name).suffix
    if suffix == "":
        return f"{name}.png"
    if suffix.lower() != ".png":
        raise ParameterError("name", name, allowed)
    return name


def has_title(fig: Figure) -> bool:
    """Whether a figure is titled: a suptitle, or a title on every panel with data."""
    if fig._suptitle is not None and fig._suptitle.get_text().strip():
        return True
    panels = [
        ax
        for ax in fig.axes
        if ax.get_visible() and ax.has_data() and ax.get_label() != "<colorbar>"
    ]
    titled = [ax for ax in panels if any(t.get_text().strip() for t in (ax.title, ax._left_title))]
    return bool(panels) and len(titled) == len(panels)


def separate_thousands(fig: Figure) -> None:
    """Thousands separators on count axes: ticks of 10,000 or more, all whole numbers.

    Only axes with matplotlib's default number formatter on a linear scale change, so
    years (below 10,000), shares and log scales keep their labels.
    """
    from matplotlib.ticker import ScalarFormatter, StrMethodFormatter

    for ax in fig.axes:
        for axis, lims in ((ax.yaxis, ax.get_ylim()), (ax.xaxis, ax.get_xlim())):
            if (
                axis.get_scale() != "linear"
                or type(axis.get_major_formatter()) is not ScalarFormatter
            ):
                continue
            ticks = [t for t in axis.get_majorticklocs() if min(lims) <= t <= max(lims)]
            if (
                ticks
                and max(abs(t) for t in ticks) >= 10_000
                and all(float(t).is_integer() for t in ticks)
            ):
                axis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))


def save_figure(
    fig: Figure, name: str, figures_dir: str | os.PathLike, dpi: int | None = None
) -> Path:
    """Save a figure as a PNG file at the resolution asked, and beside it as SVG, atomically.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        The figure.
    name : str
        File name (``campaign_results`` or ``campaign_results.png``); no folders.
        The vector copy takes the same name with ``.svg``.
    figures_dir : path-like
        The folder, created if missing.
    dpi : int, optional
        Resolution of the PNG; by default the ``savefig.dpi`` that :func:`set_theme`
        set (the figure's own dpi if no theme was set).

    Returns
    -------
    pathlib.Path
        The PNG file written (the SVG is written first, then the PNG, each
        atomically, so a PNG never stands beside an SVG of another figure).

    Raises
    ------
    ParameterError
        If the name or the resolution is not allowed.

    Warns
    -----
    FigureLayoutWarning
        When text in the figure overlaps other text or runs outside it
        (:func:`tipresearch.figures.layout.text_problems`), or the figure has no
        title (:func:`has_title`); the figure is saved all the same.

    Notes
    -----
    Count axes with ticks of 10,000 or more get thousands separators first
    (:func:`separate_thousands`).
    """
    file_name = check_figure_name(name)
    if dpi is not None:
        dpi = check_dpi(dpi)
    else:
        default = mpl.rcParams["savefig.dpi"]
        dpi = int(round(fig.dpi if default == "figure" else float(default)))
    if isinstance(figures_dir, str) and not figures_dir.strip():
        raise ParameterError("figures_dir", figures_dir, "a folder path")
    path = Path(figures_dir) / file_name
    separate_thousands(fig)
    problems = text_problems(fig)
    if not has_title(fig):
        problems.append("the figure has no title (a suptitle, or a title on every panel)")
    if problems:
        warnings.warn(f"{file_name}: " + "; ".join(problems), FigureLayoutWarning, stacklevel=2)
    atomic_write(path.with_suffix(".svg"), lambda tmp: fig.savefig(tmp, format="svg"))
    return atomic_write(path, lambda tmp: fig.savefig(tmp, format="png", dpi=dpi))
