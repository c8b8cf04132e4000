"""Figures of sweep results: Sobol' indices, a response map with a threshold, PRIM's trajectory.

Each function returns its :class:`matplotlib.figure.Figure`, with axes labelled in
units, in the collection's theme (:func:`tipresearch.figures.theme.set_theme`).
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.cm import ScalarMappable
from matplotlib.colors import Normalize
from matplotlib.figure import Figure

from tipresearch.errors import ParameterError
from tipresearch.experiments import INDEX_COLUMNS, PrimResult

__all__ = ["plot_prim_trajectory", "plot_response_map", "plot_sobol"]

_INDEX_COLOURS = {"S1": "#0173b2", "ST": "#de8f05"}
_INDEX_LABELS = {"S1": "first order (alone)", "ST": "total (with interactions)"}


def plot_sobol(
    table: pd.DataFrame,
    outputs: Sequence[str] | None = None,
    labels: Mapping[str, str] | None = None,
    output_labels: Mapping[str, str] | None = None,
) -> Figure:
    """First-order and total Sobol' indices per parameter, one panel per output.

    Parameters
    ----------
    table : pandas.DataFrame
        From :func:`tipresearch.experiments.sensitivity.sobol_indices`.
    outputs : list of str, optional
        Outputs to show, in order (default: all in the table).
    labels : mapping, optional
        Parameter labels (``ParameterSpace.labels()``).
    output_labels : mapping, optional
        Panel titles per output.

    Returns
    -------
    matplotlib.figure.Figure
        Horizontal bars with the bootstrap confidence interval as error bars;
        parameters sorted by their total index on the first output.
    """
    if not isinstance(table, pd.DataFrame) or not set(INDEX_COLUMNS) <= set(table):
        raise ParameterError("table", type(table).__name__, "a table from sobol_indices()")
    outs = list(outputs) if outputs is not None else list(dict.fromkeys(table["output"]))
    missing = [o for o in outs if o not in set(table["output"])]
    if missing or not outs:
        raise ParameterError("outputs", missing or outs, "outputs present in the table")
    labels = dict(labels or {})
    output_labels = dict(output_labels or {})
    first = table[(table["output"] == outs[0]) & (table["index"] == "ST")]
    order = first.sort_values("estimate", na_position="first")["parameter"].tolist()
    fig, axes = plt.subplots(
        1, len(outs), figsize=(4.4 * len(outs) + 3.0, 0.5 * len(order) + 2.0), sharey=True
    )
    axes = np.atleast_1d(axes)
    y = np.arange(len(order))
    for ax, out in zip(axes, outs, strict=True):
        sub = table[table["output"] == out]
        for shift, index in ((0.2, "S1"), (-0.2, "ST")):
            rows = sub[sub["index"] == index].set_index("parameter").reindex(order)
            ax.barh(
                y + shift,
                rows["estimate"].clip(lower=0),
                height=0.38,
                xerr=rows["conf"],
                color=_INDEX_COLOURS[index],
                error_kw={"elinewidth": 1, "capsize": 2},
                label=_INDEX_LABELS[index],
            )
        ax.set_title(textwrap.fill(output_labels.get(out, out), 30), fontsize="medium")
        ax.set_xlabel("Sobol' index (share of output variance)")
        ax.set_xlim(0, max(1.0, float(np.nanmax(sub["estimate"] + sub["conf"].fillna(0)))))
    axes[0].set_yticks(y, [textwrap.fill(labels.get(p, p), 40) for p in order])
    axes[0].set_ylabel("parameter")
    axes[-1].legend(loc="lower right", fontsize="small", framealpha=0.9)
    fig.tight_layout()
    return fig


def plot_response_map(
    surface: pd.DataFrame,
    *,
    threshold: float | None = None,
    xlabel: str = "",
    ylabel: str = "",
    zlabel: str = "",
    vmin: float | None = None,
    vmax: float | None = None,
    title: str | None = None,
) -> Figure:
    """A map of an output over two parameters, with the contour of a threshold.

    Parameters
    ----------
    surface : pandas.DataFrame
        From :func:`tipresearch.experiments.sensitivity.response_surface` (rows: y values,
        columns: x values).
    threshold : float, optional
        Draw the contour (white, labelled) where the output equals it.
    xlabel, ylabel, zlabel : str
        Axis and colour-bar labels, with units.
    vmin, vmax : float, optional
        Colour scale limits.
    title : str, optional
        The figure's title (default: the output's label, without its unit).

    Returns
    -------
    matplotlib.figure.Figure
    """
    if not isinstance(surface, pd.DataFrame) or surface.shape[0] < 2 or surface.shape[1] < 2:
        raise ParameterError("surface", type(surface).__name__, "a table of at least 2 x 2 values")
    x = surface.columns.to_numpy(dtype=float)
    y = surface.index.to_numpy(dtype=float)
    z = surface.to_numpy(dtype=float)
    fig, ax = plt.subplots(figsize=(7, 5.2))
    mesh = ax.pcolormesh(x, y, z, shading="nearest", cmap="viridis", vmin=vmin, vmax=vmax)
    bar = fig.colorbar(mesh, ax=ax)
    bar.set_label(zlabel)
    if threshold is not None and np.nanmin(z) < threshold < np.nanmax(z):
        lines = ax.contour(x, y, z, levels=[threshold], colors="white", linewidths=2)
        ax.clabel(lines, fmt=lambda v: f"{v:g}", fontsize="small")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    default = zlabel.split(" (")[0] if zlabel else "output"
    ax.set_title(title or f"{default[:1].upper()}{default[1:]} over the two parameters")
    fig.tight_layout()
    return fig


_PHASES = (("peel", "o", "peeling"), ("paste", "^", "pasting"))


def plot_prim_trajectory(result: PrimResult, selected: int | None = None) -> Figure:
    """PRIM's trajectory: density against coverage, by number of restricted parameters.

    Parameters
    ----------
    result : PrimResult
        From :func:`tipresearch.experiments.discovery.prim` or
        :func:`~tipresearch.experiments.discovery.scenario_discovery`.
    selected : int, optional
        Step to mark (the box reported).

    Returns
    -------
    matplotlib.figure.Figure
        One point per box: circles while PRIM peels, triangles for the boxes pasting
        widens again, coloured by the number of parameters the box restricts.
    """
    if not isinstance(result, PrimResult):
        raise ParameterError("result", type(result).__name__, "a PrimResult")
    t = result.trajectory
    n_restricted = t["restricted"].map(len)
    norm = Normalize(vmin=0, vmax=max(1, int(n_restricted.max())))
    fig, ax = plt.subplots(figsize=(6.5, 4.8))
    for phase, marker, label in _PHASES:
        rows = t["phase"] == phase
        if rows.any():
            ax.scatter(
                t.loc[rows, "coverage"],
                t.loc[rows, "density"],
                c=n_restricted[rows],
                cmap="viridis",
                norm=norm,
                marker=marker,
                s=22,
            )
            ax.scatter([], [], marker=marker, s=22, color="0.45", label=label)  # legend only
    bar = fig.colorbar(ScalarMappable(norm=norm, cmap="viridis"), ax=ax)
    bar.set_label("parameters restricted by the box (count)")
    if selected is not None:
        ax.scatter(
            t.loc[selected, "coverage"],
            t.loc[selected, "density"],
            s=160,
            facecolors="none",
            edgecolors="#d55e00",
            linewidths=2,
            label=f"box reported (step {selected})",
        )
    ax.legend(loc="lower left", fontsize="small")
    ax.set_xlabel("coverage (share of the cases of interest inside the box)")
    ax.set_ylabel("density (share of the box's points that are cases)")
    ax.set_title("PRIM's boxes, from the whole space to the densest")
    ax.set_xlim(0, 1.02)
    ax.set_ylim(0, 1.02)
    fig.tight_layout()
    return fig
