"""Which parameters matter: sensitivity indices from sweep results.

Every function reads a finished (or partly finished) sweep
(:func:`tipresearch.experiments.results.open_sweep`) and returns a tidy
:class:`pandas.DataFrame`; SALib does the arithmetic.

- :func:`sobol_indices`: first-order (``S1``) and total (``ST``) Sobol' indices, and
  second-order ones (``S2``) when the design has them, with bootstrap confidence
  intervals (Saltelli 2002; Saltelli et al. 2010), from a ``sobol`` design.
- :func:`morris_indices`: Morris elementary effects, ``mu``, ``mu*`` and ``sigma``
  (Morris 1991; Campolongo et al. 2007), from a ``morris`` design, in output units
  per unit of the parameter's quantile range.
- :func:`first_order_indices`: first-order indices from any other design: RBD-FAST
  for a Latin hypercube (Tarantola et al. 2006; Plischke 2010), the variance of the
  conditional means for a full grid.
- :func:`response_surface`: an output as a table over two parameters (for a map).

Scenario discovery (PRIM: a box of parameter values where an outcome of interest is
concentrated) is in :mod:`tipresearch.experiments.discovery`.

Outputs are averaged over replications first. Runs that failed leave a point
without outputs; the Sobol' and Morris estimators need whole blocks, so a base
sample (Sobol') or trajectory (Morris) with a missing point is left out, and the
number left out is reported in the ``dropped`` column.

References
----------
Saltelli, A. (2002). Making best use of model evaluations to compute sensitivity
indices. Computer Physics Communications 145, 280-297.
Saltelli, A. et al. (2010). Variance based sensitivity analysis of model output.
Computer Physics Communications 181, 259-270.
Morris, M. D. (1991). Factorial sampling plans for preliminary computational
experiments. Technometrics 33, 161-174.
Campolongo, F., Cariboni, J., Saltelli, A. (2007). An effective screening design for
sensitivity analysis of large models. Environmental Modelling & Software 22, 1509-1518.
Plischke, E. (2010). An effective algorithm for computing global sensitivity
indices (EASI). Reliability Engineering & System Safety 95, 354-360.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from tipresearch.checks import check_size
from tipresearch.errors import ParameterError

from .results import Sweep, _open, _outputs

#: Bytes SALib's bootstraps hold per sample and resample (resample
#: indices and the resampled values of several arrays at once).
RESAMPLE_BYTES = 64

__all__ = [
    "INDEX_COLUMNS",
    "MORRIS_COLUMNS",
    "analyze",
    "first_order_indices",
    "morris_indices",
    "response_surface",
    "sobol_indices",
]

#: Columns of :func:`sobol_indices` and :func:`first_order_indices`.
INDEX_COLUMNS = (
    "output",
    "index",
    "parameter",
    "other",
    "estimate",
    "conf",
    "samples",
    "dropped",
)
#: Columns of :func:`morris_indices`.
MORRIS_COLUMNS = (
    "output",
    "parameter",
    "mu",
    "mu_star",
    "sigma",
    "mu_star_conf",
    "samples",
    "dropped",
)


def _check_level(conf_level: float, num_resamples: int, seed: int, sw: Sweep) -> None:
    """Check the bootstrap's options, and refuse one too large for memory before SALib
    allocates it (its bootstraps hold index and value arrays of samples x resamples;
    the design's points bound the samples)."""
    if isinstance(conf_level, bool) or not isinstance(conf_level, float) or not 0 < conf_level < 1:
        raise ParameterError("conf_level", conf_level, "a number in (0, 1)")
    if isinstance(num_resamples, bool) or not isinstance(num_resamples, int) or num_resamples < 10:
        raise ParameterError("num_resamples", num_resamples, "a whole number >= 10")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ParameterError("seed", seed, "a whole number >= 0")
    check_size(
        "num_resamples",
        num_resamples,
        sw.points * num_resamples * RESAMPLE_BYTES,
        f"{sw.points:,} points x {num_resamples:,} resamples",
    )


def _require(sw: Sweep, method: str | tuple[str, ...], what: str) -> None:
    methods = (method,) if isinstance(method, str) else method
    if sw.spec.method not in methods:
        raise ParameterError(
            "design.method", sw.spec.method, f"{' or '.join(methods)} for {what} ({sw.out})"
        )


def _blocks(y: np.ndarray, size: int) -> tuple[np.ndarray, int]:
    """Whole blocks of ``size`` rows without a missing value, and how many were dropped."""
    blocks = y.reshape(-1, size)
    keep = ~np.isnan(blocks).any(axis=1)
    return keep, int((~keep).sum())


def sobol_indices(
    sweep: Sweep | str | os.PathLike,
    outputs: Iterable[str] | str | None = None,
    *,
    conf_level: float = 0.95,
    num_resamples: int = 1000,
    seed: int = 0,
) -> pd.DataFrame:
    """First-order, total (and second-order) Sobol' indices of each output.

    Parameters
    ----------
    sweep : Sweep or path-like
        A sweep with a ``sobol`` design.
    outputs : str or list of str, optional
        Outputs to analyse (default: all).
    conf_level : float
        Level of the bootstrap confidence intervals, in (0, 1).
    num_resamples : int
        Bootstrap resamples (>= 10).
    seed : int
        Seed of the bootstrap (>= 0).

    Returns
    -------
    pandas.DataFrame
        :data:`INDEX_COLUMNS`: one row per output, index (``S1``, ``ST``, and
        ``S2`` with ``other`` the second parameter when the design has second-order
        points) and parameter; ``estimate``, ``conf`` (half-width of the interval),
        ``samples`` (base samples used) and ``dropped`` (base samples left out for a
        failed or missing run). An output that does not vary gets missing estimates.

    References
    ----------
    SALib ``analyze.sobol`` (Saltelli 2002; Saltelli et al. 2010).
    """
    from SALib.analyze import sobol

    sw = _open(sweep)
    _require(sw, "sobol", "Sobol' indices")
    _check_level(conf_level, num_resamples, seed, sw)
    outs = _outputs(sw, outputs)
    names = list(sw.spec.space.names)
    d = len(names)
    second = bool(sw.spec.second_order)
    step = 2 * d + 2 if second else d + 2
    means = sw.point_means(outs)
    problem = sw.spec.space.problem()
    rows: list[dict[str, Any]] = []
    for out in outs:
        y = means[out].to_numpy(dtype=float)
        keep, dropped = _blocks(y, step)
        yk = y.reshape(-1, step)[keep].ravel()
        n = int(keep.sum())
        if n >= 2 and np.nanstd(yk) > 0:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                # SALib treats a seed of 0 as no seed, so the bootstrap gets seed + 1
                si = sobol.analyze(
                    problem,
                    yk,
                    calc_second_order=second,
                    num_resamples=num_resamples,
                    conf_level=conf_level,
                    seed=seed + 1,
                )
        else:
            si = None
        for j, name in enumerate(names):
            for index in ("S1", "ST"):
                est = float(si[index][j]) if si is not None else np.nan
                conf = float(si[f"{index}_conf"][j]) if si is not None else np.nan
                rows.append(
                    dict(
                        output=out,
                        index=index,
                        parameter=name,
                        other=None,
                        estimate=est,
                        conf=conf,
                        samples=n,
                        dropped=dropped,
                    )
                )
        if second:
            for j in range(d):
                for k in range(j + 1, d):
                    est = float(si["S2"][j, k]) if si is not None else np.nan
                    conf = float(si["S2_conf"][j, k]) if si is not None else np.nan
                    rows.append(
                        dict(
                            output=out,
                            index="S2",
                            parameter=names[j],
                            other=names[k],
                            estimate=est,
                            conf=conf,
                            samples=n,
                            dropped=dropped,
                        )
                    )
    return pd.DataFrame(rows, columns=list(INDEX_COLUMNS))


def morris_indices(
    sweep: Sweep | str | os.PathLike,
    outputs: Iterable[str] | str | None = None,
    *,
    conf_level: float = 0.95,
    num_resamples: int = 1000,
    seed: int = 0,
) -> pd.DataFrame:
    """Morris screening: mean, mean absolute and spread of the elementary effects.

    Parameters
    ----------
    sweep : Sweep or path-like
        A sweep with a ``morris`` design.
    outputs, conf_level, num_resamples, seed
        As in :func:`sobol_indices`.

    Returns
    -------
    pandas.DataFrame
        :data:`MORRIS_COLUMNS`: ``mu``, ``mu_star`` (mean absolute effect, the
        ranking measure), ``sigma`` (spread: interactions or non-linearity) and the
        bootstrap half-width ``mu_star_conf``, in output units per unit of the
        parameter's quantile range (a move across the whole range is 1);
        ``samples`` and ``dropped`` count trajectories.

    References
    ----------
    SALib ``analyze.morris`` (Morris 1991; Campolongo et al. 2007).
    """
    from SALib.analyze import morris

    sw = _open(sweep)
    _require(sw, "morris", "Morris indices")
    _check_level(conf_level, num_resamples, seed, sw)
    outs = _outputs(sw, outputs)
    names = list(sw.spec.space.names)
    step = len(names) + 1
    means = sw.point_means(outs)
    problem = sw.spec.space.problem()
    x = sw.design.unit
    rows: list[dict[str, Any]] = []
    for out in outs:
        y = means[out].to_numpy(dtype=float)
        keep, dropped = _blocks(y, step)
        n = int(keep.sum())
        si = None
        if n >= 2 and np.nanstd(y) > 0:
            xk = x.reshape(-1, step, len(names))[keep].reshape(-1, len(names))
            yk = y.reshape(-1, step)[keep].ravel()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                si = morris.analyze(
                    problem,
                    xk,
                    yk,
                    num_resamples=num_resamples,
                    conf_level=conf_level,
                    num_levels=int(sw.spec.num_levels),
                    seed=seed,
                )
        for j, name in enumerate(names):
            vals = {
                k: (float(si[k][j]) if si is not None else np.nan)
                for k in ("mu", "mu_star", "sigma", "mu_star_conf")
            }
            rows.append(dict(output=out, parameter=name, **vals, samples=n, dropped=dropped))
    return pd.DataFrame(rows, columns=list(MORRIS_COLUMNS))


def first_order_indices(
    sweep: Sweep | str | os.PathLike,
    outputs: Iterable[str] | str | None = None,
    *,
    conf_level: float = 0.95,
    num_resamples: int = 1000,
    seed: int = 0,
) -> pd.DataFrame:
    """First-order indices from a Latin hypercube (RBD-FAST) or a full grid.

    For a ``grid`` design the index of a parameter is the share of the output's
    variance over the grid explained by its conditional means,
    ``Var(E[Y | X_i]) / Var(Y)``, exact for the grid (no interval); for an ``lhs``
    design, SALib's RBD-FAST estimate with a bootstrap interval.

    Returns
    -------
    pandas.DataFrame
        :data:`INDEX_COLUMNS` with ``index`` ``S1``; ``samples`` counts points used.
    """
    from SALib.analyze import rbd_fast

    sw = _open(sweep)
    _require(sw, ("lhs", "grid"), "first-order indices")
    _check_level(conf_level, num_resamples, seed, sw)
    outs = _outputs(sw, outputs)
    names = list(sw.spec.space.names)
    means = sw.point_means(outs)
    rows: list[dict[str, Any]] = []
    for out in outs:
        y = means[out].to_numpy(dtype=float)
        ok = ~np.isnan(y)
        n, dropped = int(ok.sum()), int((~ok).sum())
        est = np.full(len(names), np.nan)
        conf = np.full(len(names), np.nan)
        if n >= 2 and np.std(y[ok]) > 0:
            if sw.spec.method == "grid":
                frame = sw.design.values.loc[ok].assign(_y=y[ok])
                total = frame["_y"].var(ddof=0)
                for j, name in enumerate(names):
                    cond = frame.groupby(name, observed=True)["_y"].transform("mean")
                    est[j] = cond.var(ddof=0) / total
            else:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", RuntimeWarning)
                    si = rbd_fast.analyze(
                        sw.spec.space.problem(),
                        sw.design.unit[ok],
                        y[ok],
                        num_resamples=num_resamples,
                        conf_level=conf_level,
                        seed=seed + 1,
                    )
                est, conf = np.asarray(si["S1"]), np.asarray(si["S1_conf"])
        for j, name in enumerate(names):
            rows.append(
                dict(
                    output=out,
                    index="S1",
                    parameter=name,
                    other=None,
                    estimate=float(est[j]),
                    conf=float(conf[j]),
                    samples=n,
                    dropped=dropped,
                )
            )
    return pd.DataFrame(rows, columns=list(INDEX_COLUMNS))


def analyze(
    sweep: Sweep | str | os.PathLike,
    outputs: Iterable[str] | str | None = None,
    **kw: Any,
) -> pd.DataFrame:
    """The analysis that suits the sweep's design.

    ``sobol`` → :func:`sobol_indices`; ``morris`` → :func:`morris_indices`; ``lhs``
    and ``grid`` → :func:`first_order_indices`. Keyword arguments are passed on.
    """
    sw = _open(sweep)
    if sw.spec.method == "sobol":
        return sobol_indices(sw, outputs, **kw)
    if sw.spec.method == "morris":
        return morris_indices(sw, outputs, **kw)
    return first_order_indices(sw, outputs, **kw)


def response_surface(sweep: Sweep | str | os.PathLike, x: str, y: str, output: str) -> pd.DataFrame:
    """An output as a table over two parameters: rows ``y``, columns ``x``.

    Each cell is the mean of the output over the points with those two values
    (over replications and over any other parameters of the design); made for a
    ``grid`` design. Points whose runs failed are left out.
    """
    sw = _open(sweep)
    outs = _outputs(sw, output)
    for name in (x, y):
        if name not in sw.spec.space.names:
            raise ParameterError("parameter", name, f"one of {', '.join(sw.spec.space.names)}")
    frame = sw.design.values[[x, y]].assign(_z=sw.point_means(outs)[output].to_numpy())
    table = frame.dropna(subset=["_z"]).pivot_table(index=y, columns=x, values="_z", aggfunc="mean")
    table.attrs.update(output=output)
    return table.sort_index().sort_index(axis=1)
