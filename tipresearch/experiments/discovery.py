"""Scenario discovery: boxes of parameter values where an outcome of interest is concentrated.

:func:`prim` runs the EMA Workbench's PRIM (``ema_workbench.analysis.prim.Prim``:
Friedman and Fisher's patient rule induction, as Kwakkel 2017 implements it for
scenario discovery) on a table of parameter values and a boolean outcome, and returns
the whole trajectory as plain data (:class:`PrimResult`): coverage, density and mass at
every step, and the box at every step. :func:`scenario_discovery` does the same on a
sweep's results, with the cases of interest those whose output passes a threshold.

PRIM first peels: it removes a slice of ``alpha`` of the box's points from the lower
or upper end of one numeric parameter, or one category of a categorical one, choosing
the peel that raises the density most per point removed (EMA's ``lenient1``
objective; ``original`` is Friedman and Fisher's, the density alone), while the box
keeps at least ``min_mass`` of the points. It then pastes: it widens the last box again
where that raises the density. Every box on the way is kept; which one to report is a
choice between coverage and density (:meth:`PrimResult.select`).

References
----------
Friedman, J. H., Fisher, N. I. (1999). Bump hunting in high-dimensional data.
Statistics and Computing 9, 123-143.
Bryant, B. P., Lempert, R. J. (2010). Thinking inside the box: a participatory,
computer-assisted approach to scenario discovery. Technological Forecasting and
Social Change 77, 34-49.
Kwakkel, J. H. (2017). The Exploratory Modeling Workbench: an open source toolkit for
exploratory modeling, scenario discovery, and (multi-objective) robust decision
making. Environmental Modelling & Software 96, 239-250.
"""

from __future__ import annotations

import math
import os
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import numpy as np
import pandas as pd

from tipresearch.errors import ParameterError

from .results import Sweep, _open, _outputs

__all__ = ["OBJECTIVES", "PrimResult", "prim", "scenario_discovery"]

#: Objective functions of PRIM's peeling and pasting (EMA Workbench names):
#: ``lenient1`` the gain in density per point removed (EMA's default), ``lenient2`` that
#: gain times the points kept, ``original`` the density of the new box.
OBJECTIVES = ("lenient1", "lenient2", "original")

#: Columns of :attr:`PrimResult.trajectory`.
TRAJECTORY_COLUMNS = ("coverage", "density", "mass", "points", "cases", "restricted", "phase")


# --------------------------------------------------------------------------- the result


@dataclass(frozen=True)
class PrimResult:
    """PRIM's trajectory (:func:`prim`) and the box at each step.

    Attributes
    ----------
    trajectory : pandas.DataFrame
        One row per step, index ``step`` (0 = all points): ``coverage`` (share of
        the cases of interest inside the box), ``density`` (share of the box's
        points that are cases of interest), ``mass`` (share of all points inside),
        ``points`` and ``cases`` (points and cases of interest inside),
        ``restricted`` (the parameters the box restricts) and ``phase`` (``peel``,
        or ``paste`` for the steps that widen the last peeled box again).
    boxes : list of dict
        Per step, ``{parameter: (lower, upper)}`` for numbers or ``{parameter:
        frozenset of choices}``. Limits are inclusive: where PRIM cut, halfway
        between the last value peeled off and the first value kept, rounded inward
        to whole numbers for an integer parameter; where it did not, the smallest
        or largest value of the sample.
    full : dict
        The limits of the whole sample, in the same form.
    """

    trajectory: pd.DataFrame
    boxes: list[dict[str, Any]]
    full: dict[str, Any]

    def select(self, min_coverage: float = 0.5, min_density: float | None = None) -> int:
        """A step of the trajectory: the box to report.

        Among the steps with coverage >= ``min_coverage``: the first (the simplest
        box) whose density reaches ``min_density`` when it is given and one does,
        otherwise the one with the highest density.

        Parameters
        ----------
        min_coverage : float
            In [0, 1].
        min_density : float, optional
            In [0, 1].

        Returns
        -------
        int
            The step (a label of :attr:`trajectory`'s index).
        """
        for name, v in (("min_coverage", min_coverage), ("min_density", min_density)):
            if v is None and name == "min_density":
                continue
            if isinstance(v, bool) or not isinstance(v, int | float) or not 0 <= v <= 1:
                raise ParameterError(name, v, "a number in [0, 1]")
        ok = self.trajectory[self.trajectory["coverage"] >= min_coverage - 1e-12]
        if min_density is not None:
            dense = ok[ok["density"] >= min_density - 1e-12]
            if not dense.empty:
                return int(dense.index[0])
        return int(ok.sort_values(["density", "coverage"], ascending=False).index[0])

    def box(self, step: int | None = None, min_coverage: float = 0.5) -> pd.DataFrame:
        """Limits of the box at ``step`` (default ``select(min_coverage)``), one row per parameter.

        Returns
        -------
        pandas.DataFrame
            ``parameter``, ``lower`` and ``upper`` (numbers) or ``choices``, and
            ``restricted`` (False where the box keeps the whole range seen).
        """
        if step is None:
            step = self.select(min_coverage)
        if isinstance(step, bool) or not isinstance(step, int) or not 0 <= step < len(self.boxes):
            raise ParameterError("step", step, f"a whole number in [0, {len(self.boxes) - 1}]")
        rows = []
        for name, lim in self.boxes[step].items():
            full = self.full[name]
            if isinstance(lim, tuple) and len(lim) == 2 and not isinstance(full, frozenset):
                rows.append(
                    dict(
                        parameter=name,
                        lower=lim[0],
                        upper=lim[1],
                        choices=None,
                        restricted=lim != full,
                    )
                )
            else:
                rows.append(
                    dict(
                        parameter=name,
                        lower=np.nan,
                        upper=np.nan,
                        choices=sorted(lim),
                        restricted=frozenset(lim) != full,
                    )
                )
        return pd.DataFrame(rows, columns=["parameter", "lower", "upper", "choices", "restricted"])


# --------------------------------------------------------------------------- PRIM


def _ema_prim() -> ModuleType:
    """``ema_workbench.analysis.prim``, imported without its warnings about extras.

    The EMA Workbench warns when it is imported that ipyparallel (its parallel
    evaluator) and altair (interactive box inspection) are missing; neither is used.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "ipyparallel not installed", UserWarning)
        warnings.filterwarnings("ignore", "altair based interactive", ImportWarning)
        from ema_workbench.analysis import prim as ema_prim
    return ema_prim


def _kinds(x: pd.DataFrame) -> dict[str, str]:
    """``real``, ``integer`` or ``choice`` per column (booleans are choices)."""
    kinds = {}
    for c in x:
        col = x[c]
        if pd.api.types.is_bool_dtype(col) or not pd.api.types.is_numeric_dtype(col):
            kinds[c] = "choice"
        elif pd.api.types.is_integer_dtype(col):
            kinds[c] = "integer"
        else:
            kinds[c] = "real"
    return kinds


def _check(x: Any, y: Any, alpha: Any, min_mass: Any, paste_alpha: Any, objective: Any) -> None:
    if not isinstance(x, pd.DataFrame) or x.empty:
        raise ParameterError("x", type(x).__name__, "a non-empty DataFrame of parameter values")
    dup = sorted({str(c) for c in x.columns[x.columns.duplicated()]})
    if dup:
        raise ParameterError("x", dup, "distinct parameter names")
    for c in x:
        if x[c].isna().any():
            raise ParameterError(str(c), "missing values", "a value at every point of x")
    yv = np.asarray(y)
    if yv.dtype != bool or yv.shape != (len(x),):
        raise ParameterError("y", yv.dtype, f"{len(x)} booleans, one per row of x")
    for name, v, lo, hi in (
        ("alpha", alpha, 0, 0.5),
        ("min_mass", min_mass, 0, 1),
        ("paste_alpha", paste_alpha, 0, 0.5),
    ):
        if isinstance(v, bool) or not isinstance(v, int | float) or not lo < v < hi:
            raise ParameterError(name, v, f"a number in ({lo}, {hi})")
    if objective not in OBJECTIVES:
        raise ParameterError("objective", objective, f"one of {', '.join(OBJECTIVES)}")
    if not yv.any():
        raise ParameterError("y", "no true values", "at least one case of interest")


def _limits(lims: pd.DataFrame, keys: dict[str, str], kinds: dict[str, str], full: dict) -> dict:
    """One of EMA's box limits (rows lower and upper, columns ``keys``) as plain data."""
    out: dict[str, Any] = {}
    for name, key in keys.items():
        if key not in lims:  # EMA leaves out a categorical column with one category
            out[name] = full[name]
        elif kinds[name] == "choice":
            out[name] = frozenset(lims.loc[0, key])
        elif kinds[name] == "integer":
            out[name] = (math.ceil(lims.loc[0, key]), math.floor(lims.loc[1, key]))
        else:
            out[name] = (float(lims.loc[0, key]), float(lims.loc[1, key]))
    return out


def prim(
    x: pd.DataFrame,
    y: Sequence[bool] | np.ndarray | pd.Series,
    *,
    alpha: float = 0.05,
    min_mass: float = 0.05,
    paste_alpha: float = 0.05,
    objective: str = "lenient1",
) -> PrimResult:
    """Patient rule induction (EMA Workbench): boxes toward the points where ``y`` is true.

    Parameters
    ----------
    x : pandas.DataFrame
        Parameter values, one row per point, one column per parameter, no missing
        values. Numeric columns are peeled by quantiles (integers as numbers, their
        limits rounded inward); others, and booleans, by removing one category at a
        time.
    y : array of bool
        The cases of interest (for example intake rate >= 0.8), one per row of ``x``.
    alpha : float
        Share of the box's points removed per peel, in (0, 0.5) (EMA's ``peel_alpha``).
    min_mass : float
        Peeling stops before the box holds less than this share of the points, in
        (0, 1) (EMA's ``mass_min``).
    paste_alpha : float
        Share of the points next to the box added per paste, in (0, 0.5).
    objective : {"lenient1", "lenient2", "original"}
        Objective of peeling and pasting (:data:`OBJECTIVES`).

    Returns
    -------
    PrimResult
        The trajectory of the first box EMA's ``find_box`` finds (peeling and
        pasting). When every point is a case of interest the trajectory is step 0
        alone: the box is the whole sample.

    Raises
    ------
    ParameterError
        For an empty ``x``, a column with missing values (named), ``y`` that is not
        one boolean per row or has no true value, or an option out of range.

    References
    ----------
    Friedman and Fisher (1999); Kwakkel (2017), ``ema_workbench.analysis.prim``.
    """
    _check(x, y, alpha, min_mass, paste_alpha, objective)
    yv = np.asarray(y)
    names = list(x.columns)
    kinds = _kinds(x)
    full: dict[str, Any] = {}
    for c in names:
        col = x[c]
        if kinds[c] == "choice":
            full[c] = frozenset(col.tolist())
        elif kinds[c] == "integer":
            full[c] = (int(col.min()), int(col.max()))
        else:
            full[c] = (float(col.min()), float(col.max()))
    n, total = len(x), int(yv.sum())
    if total == n:  # EMA needs both classes; nothing to peel toward
        traj = pd.DataFrame(
            [(1.0, 1.0, 1.0, n, n, [], "peel")], columns=list(TRAJECTORY_COLUMNS)
        ).rename_axis("step")
        return PrimResult(traj, [dict(full)], full)

    # EMA reads float64 columns as numbers and object columns as categories (pasting an
    # int64 column fails with pandas 3), and drops a column named "scenario": the columns
    # are renamed, with numbers as float64 and everything else as object
    keys = {c: f"p{j}" for j, c in enumerate(names)}
    frame = pd.DataFrame(
        {keys[c]: x[c].to_numpy(dtype=object if kinds[c] == "choice" else float) for c in names}
    )
    ema = _ema_prim()
    # `threshold` is the density EMA asks of the box it finds (else it returns the whole
    # sample); the density of the whole sample accepts any box, and the box to report is
    # chosen from the trajectory afterwards (PrimResult.select)
    with warnings.catch_warnings():
        # EMA calls DataFrame.drop(inplace=True), which pandas 3.1 deprecates
        warnings.filterwarnings("ignore", "The inplace keyword in DataFrame.drop")
        finder = ema.Prim(
            frame,
            yv.astype(int),
            threshold=total / n,
            obj_function=ema.PRIMObjectiveFunctions(objective),
            peel_alpha=alpha,
            paste_alpha=paste_alpha,
            mass_min=min_mass,
        )
    found = finder.find_box()
    boxes = [_limits(lims, keys, kinds, full) for lims in found.box_lims]
    t = found.peeling_trajectory
    traj = pd.DataFrame(
        {
            "coverage": t["coverage"].to_numpy(dtype=float),
            "density": t["density"].to_numpy(dtype=float),
            "mass": t["mass"].to_numpy(dtype=float),
            "points": t["n"].to_numpy(dtype=np.int64),
            "cases": t["k"].to_numpy(dtype=np.int64),
        }
    )
    traj["restricted"] = [[c for c in names if b[c] != full[c]] for b in boxes]
    # peeling shrinks the box at every step and pasting widens it: the smallest box is
    # the last peeled one
    last_peel = int(np.argmin(traj["mass"].to_numpy()))
    traj["phase"] = ["peel" if i <= last_peel else "paste" for i in range(len(traj))]
    traj.index.name = "step"
    return PrimResult(traj, boxes, full)


def scenario_discovery(
    sweep: Sweep | str | os.PathLike,
    output: str,
    threshold: float,
    *,
    above: bool = True,
    alpha: float = 0.05,
    min_mass: float = 0.05,
    paste_alpha: float = 0.05,
    objective: str = "lenient1",
) -> PrimResult:
    """PRIM on a sweep: where in the parameter space does ``output`` pass ``threshold``?

    Parameters
    ----------
    sweep : Sweep or path-like
        A sweep (:func:`tipresearch.experiments.results.open_sweep`) or its folder.
    output : str
        One of the sweep's outputs.
    threshold : float
        The cases of interest are the points with ``output >= threshold`` (``above``)
        or ``output <= threshold``.
    above : bool
        Which side of the threshold is of interest.
    alpha, min_mass, paste_alpha, objective
        As in :func:`prim`.

    Returns
    -------
    PrimResult
        Over the design points with outputs (averaged over replications; points
        whose runs failed are left out).
    """
    sw = _open(sweep)
    outs = _outputs(sw, output)
    y = sw.point_means(outs)[output]
    ok = y.notna().to_numpy()
    if isinstance(threshold, bool) or not isinstance(threshold, int | float):
        raise ParameterError("threshold", threshold, "a number")
    hit = (y >= threshold) if above else (y <= threshold)
    x = sw.design.values.loc[ok].reset_index(drop=True)
    return prim(
        x,
        hit.to_numpy()[ok],
        alpha=alpha,
        min_mass=min_mass,
        paste_alpha=paste_alpha,
        objective=objective,
    )
