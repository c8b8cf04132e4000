"""Recovery: simulate the published figures from known values, refit, check coverage.

A fit that recovers known values from data the model made is the least a fit must
do; whether its stated errors cover the truth as often as they claim is what tells
a reader to trust them. :func:`recovery` draws synthetic targets from ``truth`` on
seeds the fit never uses, refits every parameter from the base values (with the
same Sobol' screen as the China fit), and records each estimate with its
misspecification-robust (sandwich) error.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from tipresearch.errors import ParameterError
from tipresearch.reforms import ChinaModel

from .calibrate import fit, synthetic_targets
from .parameters import FitParameter, expand
from .result import sandwich_errors
from .targets import Target

__all__ = ["RECOVERY_DATA_SEED", "coverage_table", "recovery"]

#: First seed of the synthetic data; replication ``r`` uses ``RECOVERY_DATA_SEED + r``.
RECOVERY_DATA_SEED = 5000

#: ``z`` of a two-sided 90% interval.
_Z90 = 1.6448536269514722


def recovery(
    base: ChinaModel,
    truth: Mapping[str, float],
    parameters: Sequence[FitParameter],
    targets: Sequence[Target],
    *,
    replications: int = 10,
    fit_seeds: Sequence[int] = (0,),
    screen: int = 16,
    max_evaluations: int = 150,
    done: pd.DataFrame | None = None,
    after_each: Callable[[pd.DataFrame], None] | None = None,
) -> pd.DataFrame:
    """Refit ``parameters`` to synthetic targets drawn at ``truth``, once per replication.

    Parameters
    ----------
    base : ChinaModel
        The model with every value not fitted.
    truth : mapping of str to float
        The true value of every fitted parameter, by key.
    parameters : sequence of FitParameter
        What is refitted.
    targets : sequence of Target
        The figures whose synthetic values are fitted (their ``value`` is replaced).
    replications : int
        Synthetic data sets, each from its own seed (``RECOVERY_DATA_SEED + r``).
    fit_seeds : sequence of int
        Simulation seeds of the refits (none of them a data seed).
    screen, max_evaluations : int
        As in :func:`tipresearch.fit.fit`.
    done : pandas.DataFrame, optional
        Rows of an earlier call; replications already there are not redone.
    after_each : callable, optional
        Called with the rows so far after each replication (to save them).

    Returns
    -------
    pandas.DataFrame
        One row per replication and parameter: ``replication``, ``parameter``,
        ``truth``, ``estimate``, ``robust_std_error``, ``covered_90`` (the truth
        inside estimate ± 1.645 robust errors), ``objective``, ``evaluations``.
    """
    keys = [p.key for p in parameters]
    missing = sorted(set(keys) - set(truth))
    if missing:
        raise ParameterError("truth", missing[0], "a value for every fitted parameter")
    if replications < 1:
        raise ParameterError("replications", replications, "an integer >= 1")
    overlap = sorted(set(fit_seeds) & {RECOVERY_DATA_SEED + r for r in range(replications)})
    if overlap:
        raise ParameterError("fit_seeds", overlap[0], "seeds other than the data seeds")
    rows = [] if done is None else done.to_dict("records")
    finished = {int(r["replication"]) for r in rows}
    true_model = base.updated(expand(parameters, truth))
    for rep in range(replications):
        if rep in finished:
            continue
        data = synthetic_targets(true_model, targets, seeds=(RECOVERY_DATA_SEED + rep,))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            result = fit(
                base,
                data,
                parameters,
                seeds=fit_seeds,
                screen=screen,
                screen_seed=rep,
                max_evaluations=max_evaluations,
            )
        errors = sandwich_errors(result).set_index("parameter")["robust_std_error"]
        for key in keys:
            est, se = result.estimates[key], float(errors[key])
            rows.append(
                {
                    "replication": rep,
                    "parameter": key,
                    "truth": float(truth[key]),
                    "estimate": float(est),
                    "robust_std_error": se,
                    "covered_90": bool(np.isfinite(se) and abs(est - truth[key]) <= _Z90 * se),
                    "objective": result.objective,
                    "evaluations": result.evaluations,
                }
            )
        if after_each is not None:
            after_each(pd.DataFrame(rows))
    return pd.DataFrame(rows)


def coverage_table(rows: pd.DataFrame) -> pd.DataFrame:
    """Per parameter: bias, root mean squared error, and the coverage of 90% intervals.

    Parameters
    ----------
    rows : pandas.DataFrame
        The rows of :func:`recovery`.

    Returns
    -------
    pandas.DataFrame
        ``parameter``, ``truth``, ``replications``, ``mean_estimate``, ``bias``,
        ``rmse``, ``mean_robust_std_error``, ``coverage_90``.
    """
    out = []
    for key, g in rows.groupby("parameter", sort=False):
        err = g.estimate - g.truth
        out.append(
            {
                "parameter": key,
                "truth": float(g.truth.iloc[0]),
                "replications": len(g),
                "mean_estimate": float(g.estimate.mean()),
                "bias": float(err.mean()),
                "rmse": float(np.sqrt(np.mean(err**2))),
                "mean_robust_std_error": float(g.robust_std_error.mean()),
                "coverage_90": float(g.covered_90.mean()),
            }
        )
    return pd.DataFrame(out)
