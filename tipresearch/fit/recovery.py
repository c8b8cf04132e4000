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
from tipresearch.experiments import run_points
from tipresearch.reforms import ChinaModel

from .calibrate import fit, synthetic_targets
from .parameters import FitParameter, expand
from .result import residuals, sandwich_errors
from .targets import Target, model_moments

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
    starts: int = 1,
    generations: int = 0,
    max_evaluations: int = 150,
    done: pd.DataFrame | None = None,
    after_each: Callable[[pd.DataFrame], None] | None = None,
    workers: int = 1,
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
    screen, starts, generations, max_evaluations : int
        As in :func:`tipresearch.fit.fit`; each refit searches from the package
        defaults, as a fit to real figures would.
    done : pandas.DataFrame, optional
        Rows of an earlier call; replications already there are not redone.
    after_each : callable, optional
        Called with the rows so far after each batch of replications (to save them).
    workers : int
        Replications refitted at once on the sweep executors
        (:func:`tipresearch.experiments.run_points`); one batch of ``workers``
        replications at a time, so that an interrupted run keeps whole batches.

    Returns
    -------
    pandas.DataFrame
        One row per replication and parameter: ``replication``, ``parameter``,
        ``truth``, ``estimate``, ``robust_std_error``, ``covered_90`` (the truth
        inside estimate ± 1.645 robust errors), ``objective``, ``evaluations``,
        and ``truth_objective``: the objective of the same synthetic data at the
        truth, on the fit's seeds. The truth is one of the points the search could
        have found, so a refit whose ``objective`` is above ``truth_objective``
        stopped short of the minimum: a failure of the search, not of the data.
        Rows in ``done`` without it get it computed (one evaluation each).
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
    missing_truth = {
        int(r["replication"])
        for r in rows
        if not np.isfinite(float(r.get("truth_objective", np.nan)))
    }
    if missing_truth:
        model = base.updated(expand(tuple(parameters), dict(truth)))
        filled = {rep: _synthetic_data(model, targets, fit_seeds, rep)[1] for rep in missing_truth}
        for r in rows:
            if int(r["replication"]) in filled:
                r["truth_objective"] = filled[int(r["replication"])]
    finished = {int(r["replication"]) for r in rows}
    todo = [rep for rep in range(replications) if rep not in finished]
    settings = {
        "base": base,
        "truth": dict(truth),
        "parameters": tuple(parameters),
        "targets": tuple(targets),
        "fit_seeds": tuple(fit_seeds),
        "screen": screen,
        "starts": starts,
        "generations": generations,
        "max_evaluations": max_evaluations,
    }
    batch = max(1, int(workers))
    for start in range(0, len(todo), batch):
        reps = todo[start : start + batch]
        if batch == 1:
            results = [_refit(reps[0], settings)]
        else:
            frame = run_points(
                _refit_point, [{"data_replication": r} for r in reps], settings, workers=batch
            )
            errors = frame["error"].dropna()
            if len(errors):
                raise ParameterError("recovery", errors.iloc[0], "refits that run")
            results = [
                _refit_from_row(row, keys)
                for row in frame.sort_values("data_replication").to_dict("records")
            ]
        for rep, result in zip(reps, results, strict=True):
            for key in keys:
                est, se = result[f"estimate:{key}"], result[f"error:{key}"]
                rows.append(
                    {
                        "replication": rep,
                        "parameter": key,
                        "truth": float(truth[key]),
                        "estimate": float(est),
                        "robust_std_error": float(se),
                        "covered_90": bool(np.isfinite(se) and abs(est - truth[key]) <= _Z90 * se),
                        "objective": result["objective"],
                        "evaluations": int(result["evaluations"]),
                        "truth_objective": result["truth_objective"],
                    }
                )
        if after_each is not None:
            after_each(pd.DataFrame(rows))
    return pd.DataFrame(rows)


def _refit(rep: int, settings: Mapping) -> dict[str, float]:
    """One replication: synthetic targets from data seed ``RECOVERY_DATA_SEED + rep``, refitted."""
    parameters = settings["parameters"]
    base = settings["base"]
    true_model = base.updated(expand(parameters, settings["truth"]))
    data, at_truth = _synthetic_data(true_model, settings["targets"], settings["fit_seeds"], rep)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        result = fit(
            base,
            data,
            parameters,
            seeds=settings["fit_seeds"],
            screen=settings["screen"],
            screen_seed=rep,
            starts=settings.get("starts", 1),
            generations=settings.get("generations", 0),
            max_evaluations=settings["max_evaluations"],
        )
    errors = sandwich_errors(result).set_index("parameter")["robust_std_error"]
    out = {
        "objective": float(result.objective),
        "evaluations": float(result.evaluations),
        "truth_objective": at_truth,
    }
    for p in parameters:
        out[f"estimate:{p.key}"] = float(result.estimates[p.key])
        out[f"error:{p.key}"] = float(errors[p.key])
    return out


def _synthetic_data(
    true_model: ChinaModel, targets: Sequence[Target], fit_seeds: Sequence[int], rep: int
) -> tuple[tuple[Target, ...], float]:
    """Replication ``rep``'s synthetic targets and their objective at the truth (fit seeds)."""
    data = synthetic_targets(true_model, targets, seeds=(RECOVERY_DATA_SEED + rep,))
    r = residuals(data, model_moments(true_model, data, fit_seeds))
    return data, float(r @ r)


def _refit_point(values: Mapping, seed: int, settings: Mapping) -> dict[str, float]:
    """:func:`_refit` as an executor task (the point's seed is not used: the data seed is)."""
    return _refit(int(values["data_replication"]), settings)


def _refit_from_row(row: Mapping, keys: Sequence[str]) -> dict[str, float]:
    out = {
        "objective": row["objective"],
        "evaluations": row["evaluations"],
        "truth_objective": row["truth_objective"],
    }
    for key in keys:
        out[f"estimate:{key}"] = row[f"estimate:{key}"]
        out[f"error:{key}"] = row[f"error:{key}"]
    return out


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
        ``rmse``, ``mean_robust_std_error``, ``coverage_90``,
        ``search_found_truth``: the share of refits whose objective is at most the
        objective at the truth (where ``truth_objective`` is known; a refit above it
        stopped in another basin), ``refit_std_error``: the standard deviation of the
        refitted estimates (with the truth at the fit's estimates, a parametric
        bootstrap that refits every parameter from the defaults, search included;
        Efron and Tibshirani 1993, ch. 6), and ``refit_over_robust``, its ratio to the
        mean robust error.
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
                "search_found_truth": _found(g),
                "refit_std_error": float(g.estimate.std(ddof=1)) if len(g) > 1 else float("nan"),
            }
        )
    table = pd.DataFrame(out)
    table["refit_over_robust"] = table["refit_std_error"] / table["mean_robust_std_error"]
    return table


def _found(rows: pd.DataFrame) -> float:
    """Share of refits that reached an objective no higher than the truth's (NaN if unknown)."""
    if "truth_objective" not in rows or rows["truth_objective"].isna().all():
        return float("nan")
    known = rows.dropna(subset=["truth_objective"])
    return float((known["objective"] <= known["truth_objective"] * (1 + 1e-9)).mean())
