"""The ridge of the China fit: the parameter values the figures cannot tell apart, followed.

A profile (:func:`tipresearch.fit.profiles`) refits the other parameters from the
estimates at each held value. Where two parameters trade off against each other, the
refits must travel far along the trade-off, and a short local refit from the estimates
can stop before it gets there (the objective then looks steeper than it is). A ridge
trace follows the trade-off by *continuation*: the held parameter moves in small steps
away from its estimate, and each step's refit starts from the step before's refitted
values (Allgower and Georg 2003, ch. 1), so every refit starts close to its own
minimum. The two directions, below and above the estimate, run on the sweep executors
at once.

:func:`ridge_outcomes` then reads, at each point of the trace, the conclusions a reader
takes from the fit: every published figure the model produces (fitted and held out),
what rating on cases solved only does to the 2008 → 2009 rise, and the implied world
(the share of reports recorded, the solvable share of the declined ones, the change in
incidence). A conclusion that holds at every point that fits about as well as the best
is one the figures support; one that changes along it is one they cannot settle.

References
----------
Allgower, E. L., Georg, K. (2003). Introduction to Numerical Continuation Methods.
SIAM (Classics in Applied Mathematics 45). Murphy, S. A., van der Vaart, A. W. (2000).
On profile likelihood. Journal of the American Statistical Association 95(450),
449-465.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from tipresearch.errors import ParameterError
from tipresearch.experiments import run_points
from tipresearch.io import read_table
from tipresearch.reforms import ChinaModel, annual_counts, implied_world

from .identification import AT, FLAT_PROFILE, refit_chains
from .parameters import expand
from .result import FitResult
from .targets import _moments_of_frame
from .validation import PREDICTION_SEEDS, _relative_error, china_figures

__all__ = ["RIDGE_OUTCOMES", "load_traces", "near_best", "ridge_outcomes", "trace_ridge"]

#: Columns of :func:`ridge_outcomes` besides the figures, with what each one is.
RIDGE_OUTCOMES: dict[str, str] = {
    "growth_2009_solved_only": (
        "registered cases 2009 / 2008 with the clearance rate's weight set to 0 "
        "(rated on cases solved only)"
    ),
    "recorded_share_2008": "share of the reports of 2008 the police recorded, both types",
    "declined_solvable_share_2008": (
        "share of the declined reports of 2008 that standard effort would have solved"
    ),
    "incidence_change_2008_2020": "relative change in reports received, 2008 to 2020",
    "held_out_median_abs_error": "median absolute relative error of the held-out figures",
}


def trace_ridge(
    result: FitResult,
    key: str,
    values: Sequence[float],
    *,
    max_evaluations: int = 40,
    executor: str = "auto",
    workers: int | None = None,
) -> pd.DataFrame:
    """Follow the fit's objective along one parameter by continuation (:func:`refit_chains`).

    Parameters
    ----------
    result : FitResult
        The fit (its targets, seeds, fixed values and estimates).
    key : str
        The fitted parameter held at each value.
    values : sequence of float
        Held values, inside the parameter's bounds and other than the estimate;
        those below the estimate are visited downward from it, those above upward.
    max_evaluations : int
        Evaluations of each step's local refit.
    executor, workers
        Sweep executors (:func:`tipresearch.experiments.run_points`): the two
        directions run as two tasks.

    Returns
    -------
    pandas.DataFrame
        ``parameter``, ``value``, ``objective``, ``evaluations``, ``direction``
        (``below``, ``estimate``, ``above``), ``at.<key>`` (every fitted parameter's
        value at the point), sorted by value, with the estimate itself as a row.

    Raises
    ------
    ParameterError
        If ``key`` is not a fitted parameter, a value is outside its bounds or not a
        finite number, or ``max_evaluations`` is not a whole number >= 1.
    """
    by_key = {p.key: p for p in result.parameters}
    if key not in by_key:
        raise ParameterError("key", key, f"one of the fitted parameters {sorted(by_key)}")
    p = by_key[key]
    vals = np.asarray(list(values), dtype=float)
    if vals.size == 0 or not np.all(np.isfinite(vals)):
        raise ParameterError("values", list(values), "finite numbers")
    if np.any((vals < p.lower) | (vals > p.upper)):
        raise ParameterError("values", list(values), f"values within [{p.lower:g}, {p.upper:g}]")
    if isinstance(max_evaluations, bool) or not isinstance(max_evaluations, int):
        raise ParameterError("max_evaluations", max_evaluations, "a whole number >= 1")
    if max_evaluations < 1:
        raise ParameterError("max_evaluations", max_evaluations, "a whole number >= 1")
    est = float(result.estimates[key])
    traced = refit_chains(
        result,
        {key: vals.tolist()},
        max_evaluations=max_evaluations,
        executor=executor,
        workers=workers,
    )
    rows = traced.drop(columns="parameter").to_dict("records")
    here = {"value": est, "objective": float(result.objective), "evaluations": 0.0}
    here.update({f"{AT}{k}": float(v) for k, v in result.estimates.items()})
    here["direction"] = "estimate"
    rows.append(here)
    out = pd.DataFrame(rows)
    out.insert(0, "parameter", key)
    out["evaluations"] = out["evaluations"].astype(int)
    return out.sort_values("value", ignore_index=True)


def load_traces(folder: str | os.PathLike, result: FitResult) -> list[pd.DataFrame]:
    """The ridge traces written beside a fit (``*_trace.csv``), of its fitted parameters.

    Parameters
    ----------
    folder : path
        The fit's folder (``data/fit``).
    result : FitResult
        The fit; a trace of a parameter it does not fit is left out.

    Returns
    -------
    list of pandas.DataFrame
        One frame per trace file, in file-name order.
    """
    keys = {p.key for p in result.parameters}
    traces = [read_table(f) for f in sorted(Path(folder).glob("*_trace.csv"))]
    return [t for t in traces if "parameter" in t and set(t["parameter"]) <= keys]


def near_best(trace: pd.DataFrame) -> pd.Series:
    """Which points of a trace fit about as well as its best.

    The rule of :func:`tipresearch.fit.identification_table`: an objective within
    ``max(FLAT_PROFILE * minimum, 0.005)`` of the trace's minimum.
    """
    if not isinstance(trace, pd.DataFrame) or "objective" not in trace:
        raise ParameterError("trace", type(trace).__name__, "a frame with an objective column")
    low = float(trace["objective"].min())
    return trace["objective"] <= low + max(FLAT_PROFILE * low, 0.005)


def _outcomes_at(values: Mapping[str, Any], seed: int, settings: Mapping[str, Any]) -> dict:
    """Every figure and the conclusions at one ridge point and seed (an executor task)."""
    point = settings["points"][int(values["ridge_point"])]
    model = ChinaModel().updated({**settings["changes"], **point})
    sim_seed = int(values["sim_seed"])
    frame = model.simulate(seed=sim_seed)
    figures = settings["figures"]
    out = {f.id: float(m) for f, m in zip(figures, _moments_of_frame(frame, figures), strict=True)}
    world = implied_world(frame).set_index(["year", "case_type"])
    out["recorded_share_2008"] = float(world.loc[(2008, "all"), "recorded_share"])
    out["declined_solvable_share_2008"] = float(world.loc[(2008, "all"), "declined_solvable_share"])
    reports = world["reports"]
    out["incidence_change_2008_2020"] = float(
        reports.loc[(2020, "all")] / reports.loc[(2008, "all")] - 1.0
    )
    solved_only = model.updated({"metric.rate": 0.0}).simulate(seed=sim_seed, end="2009-12")
    registered = annual_counts(solved_only).set_index(["year", "case_type"])["registered"]
    out["growth_2009_solved_only"] = float(
        registered.loc[(2009, "all")] / registered.loc[(2008, "all")]
    )
    return out


def ridge_outcomes(
    result: FitResult,
    trace: pd.DataFrame,
    seeds: Sequence[int] = PREDICTION_SEEDS[:4],
    *,
    executor: str = "auto",
    workers: int | None = None,
) -> pd.DataFrame:
    """The fit's conclusions at every point of a ridge trace, averaged over fresh seeds.

    Parameters
    ----------
    result : FitResult
        The fit the trace belongs to (its fixed values).
    trace : pandas.DataFrame
        From :func:`trace_ridge`.
    seeds : sequence of int
        Simulation seeds (none of them a fit seed; default the first four
        prediction seeds).
    executor, workers
        Sweep executors: one task per point and seed.

    Returns
    -------
    pandas.DataFrame
        The trace's columns, ``near_best`` (:func:`near_best`), each figure of
        :func:`~tipresearch.fit.china_figures` (the model's mean over seeds) with its
        relative error to the published value (``error.<id>``), and the columns of
        :data:`RIDGE_OUTCOMES`.
    """
    need = {"value", "objective", "direction"}
    if not isinstance(trace, pd.DataFrame) or not need <= set(trace.columns):
        raise ParameterError("trace", type(trace).__name__, f"a frame from trace_ridge ({need})")
    seeds = [int(s) for s in seeds]
    if not seeds or len(set(seeds)) != len(seeds) or set(seeds) & set(result.seeds):
        raise ParameterError("seeds", seeds, "distinct seeds, none of them a seed of the fit")
    at = [c for c in trace.columns if c.startswith(AT)]
    keys = {p.key for p in result.parameters}
    if {c[len(AT) :] for c in at} != keys:
        raise ParameterError("trace", sorted(at), f"an at.<key> column for each of {sorted(keys)}")
    fixed = result.fixed_changes()
    points = [
        expand(result.parameters, {c[len(AT) :]: float(row[c]) for c in at})
        for _, row in trace.iterrows()
    ]
    figures = china_figures()
    frame = run_points(
        _outcomes_at,
        [{"ridge_point": i, "sim_seed": s} for i in range(len(points)) for s in seeds],
        {"points": points, "changes": fixed, "figures": figures},
        executor=executor,
        workers=workers,
    )
    failed = frame[frame["error"].notna()]
    if len(failed):
        first = failed.iloc[0]
        raise ParameterError(
            "trace", int(first["ridge_point"]), f"points that run ({first['error']})"
        )
    columns = [f.id for f in figures] + [
        c for c in RIDGE_OUTCOMES if c != "held_out_median_abs_error"
    ]
    means = frame.groupby("ridge_point")[columns].mean()
    out = trace.reset_index(drop=True).copy()
    out["near_best"] = near_best(out)
    fitted = {t.id for t in result.targets}
    held = [f for f in figures if f.id not in fitted and f.kind != "growth"]
    for f in figures:
        out[f.id] = means[f.id].to_numpy()
        out[f"error.{f.id}"] = [
            _relative_error(f.value, f.value_high, m) for m in means[f.id].to_numpy()
        ]
    for c in columns[len(figures) :]:
        out[c] = means[c].to_numpy()
    out["held_out_median_abs_error"] = out[[f"error.{f.id}" for f in held]].abs().median(axis=1)
    out["seeds"] = len(seeds)
    return out
