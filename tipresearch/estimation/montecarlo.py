"""A Monte Carlo of the estimators against the model's truth: bias, RMSE and coverage.

Each replication simulates a panel from a :class:`~tipresearch.estimation.PanelDesign`
with its own seed (:func:`tipresearch.experiments.point.point_seed` of the root seed and
the replication, so the numbers do not depend on the executor or the number of
workers), runs every estimator (:func:`~tipresearch.estimation.estimate_all`) and
computes every estimand (:func:`~tipresearch.estimation.true_effects`). Replications run
on the sweep executors (:func:`tipresearch.experiments.run_points`: in process, in a
local process pool, or on Dask).

:func:`summarise_monte_carlo` gives, per estimator and term, the mean estimate, the
truth, the bias, the root mean squared error and the share of 95% intervals that cover
the truth, with the Monte Carlo standard errors of the bias and of that share
(``sqrt(c (1 - c) / R)`` for coverage ``c`` over ``R`` replications). Estimates of the
effect on recorded cases are judged against two truths: the effect on recorded cases,
and the effect on incidence, the reading that calls a rise in recorded cases a rise in
crime.

References
----------
Morris, White & Crowther (2019), Using simulation studies to evaluate statistical
methods, Statistics in Medicine 38(11) (performance measures and their Monte Carlo
errors); ``docs/estimation.md``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from tipresearch.checks import check_seed
from tipresearch.errors import ParameterError
from tipresearch.experiments import run_points
from tipresearch.experiments.point import point_seed
from tipresearch.io import read_table, write_table, write_text

from .estimators import estimate_all, without_event_terms
from .panels import PanelDesign, simulate_panel
from .truth import true_effects

__all__ = [
    "MC_COLUMNS",
    "SUMMARY_COLUMNS",
    "estimates_with_truth",
    "monte_carlo",
    "monte_carlo_table",
    "replicate",
    "replication_seed",
    "run_monte_carlo",
    "summarise_monte_carlo",
]

#: Columns of :func:`monte_carlo`.
MC_COLUMNS = (
    "replication",
    "seed",
    "estimator",
    "outcome",
    "term",
    "estimand",
    "estimate",
    "std_error",
    "truth",
    "truth_incidence",
)
#: Columns of :func:`summarise_monte_carlo`.
SUMMARY_COLUMNS = (
    "estimator",
    "outcome",
    "term",
    "estimand",
    "replications",
    "truth",
    "mean_estimate",
    "bias",
    "bias_mc_se",
    "rmse",
    "coverage",
    "coverage_mc_se",
    "mean_std_error",
    "sd_estimate",
    "bias_incidence",
    "coverage_incidence",
)
_SEP = "|"
_Z = 1.959963984540054


def replicate(
    design: PanelDesign,
    seed: int,
    *,
    leads: int = 6,
    lags: int = 12,
    estimators: tuple[str, ...] | None = None,
) -> pd.DataFrame:
    """One replication: a panel, every estimate, and the truth of its estimand.

    Returns the rows of :data:`MC_COLUMNS` without ``replication`` and ``seed``;
    ``truth`` is the estimand's value for the estimate's outcome, ``truth_incidence``
    for incidence (NaN for terms without an estimand).
    """
    panel = simulate_panel(design, seed)
    estimates = estimates_with_truth(
        panel, design.survey_rate, leads=leads, lags=lags, estimators=estimators
    )
    return estimates[list(MC_COLUMNS[2:])]


def estimates_with_truth(
    panel: pd.DataFrame,
    survey_rate: float,
    *,
    leads: int = 6,
    lags: int = 12,
    estimators: tuple[str, ...] | None = None,
) -> pd.DataFrame:
    """:func:`~tipresearch.estimation.estimate_all` on a simulated panel, with the truth.

    Returns its frame with ``truth`` (the estimand's value for the estimate's outcome)
    and ``truth_incidence`` (for incidence); NaN for terms without an estimand.
    """
    estimates = estimate_all(panel, survey_rate, leads=leads, lags=lags, estimators=estimators)
    truth = true_effects(panel, leads=leads, lags=lags).set_index(["estimand", "outcome"])["truth"]
    keys = list(zip(estimates["estimand"], estimates["outcome"], strict=True))
    estimates["truth"] = [truth.get(k, np.nan) for k in keys]
    estimates["truth_incidence"] = [truth.get((k[0], "incidence"), np.nan) for k in keys]
    return estimates


def replication_seed(root_seed: int, replication: int) -> int:
    """The seed of replication ``replication``: ``point_seed(root_seed, replication, 0)``."""
    return point_seed(root_seed, replication, 0)


def _evaluate(values: Mapping[str, Any], seed: int, settings: Any) -> dict[str, float]:
    """A sweep executor's view of :func:`replicate`: flat ``{name: float}``.

    The seed comes from the replication's number (``values["draw"]``), not from its place
    in this call, so that a Monte Carlo run in pieces gives the numbers of one run.
    """
    design, options, root_seed = settings
    rows = replicate(design, replication_seed(root_seed, int(values["draw"])), **options)
    out: dict[str, float] = {}
    for r in rows.itertuples(index=False):
        key = _SEP.join((r.estimator, r.outcome, r.term, r.estimand))
        for field in ("estimate", "std_error", "truth", "truth_incidence"):
            out[f"{key}{_SEP}{field}"] = getattr(r, field)
    return out


def monte_carlo(
    design: PanelDesign,
    replications: int,
    seed: int = 0,
    *,
    start: int = 0,
    executor: str = "auto",
    workers: int | None = None,
    scheduler: str | None = None,
    progress: bool = False,
    leads: int = 6,
    lags: int = 12,
    estimators: tuple[str, ...] | None = None,
) -> pd.DataFrame:
    """Run ``replications`` replications of :func:`replicate` on the sweep executors.

    Parameters
    ----------
    design : PanelDesign
        The panels' design.
    replications : int
        Number of replications (1 to 100,000).
    seed : int
        Root seed: replication ``r`` uses ``point_seed(seed, r, 0)``
        (:func:`replication_seed`).
    start : int
        Number of the first replication (``start`` to ``start + replications - 1``):
        a Monte Carlo run in pieces gives the same numbers as one run.
    executor, workers, scheduler
        As for :func:`tipresearch.experiments.run_points`.
    progress : bool
        Show a progress bar.
    leads, lags, estimators
        As for :func:`tipresearch.estimation.estimate_all` (all estimators by default).

    Returns
    -------
    pandas.DataFrame
        :data:`MC_COLUMNS`, one row per replication, estimator and term.

    Raises
    ------
    ParameterError
        For a bad argument, or if a replication fails (its error is named).
    """
    if not isinstance(design, PanelDesign):
        raise ParameterError("design", type(design).__name__, "a PanelDesign")
    if isinstance(replications, bool) or not isinstance(replications, int | np.integer):
        raise ParameterError("replications", replications, "a whole number in [1, 100000]")
    if not 1 <= replications <= 100_000:
        raise ParameterError("replications", replications, "a whole number in [1, 100000]")
    seed = check_seed(seed)
    if estimators is not None:
        estimators = tuple(estimators)
    options = {"leads": leads, "lags": lags, "estimators": estimators}
    if isinstance(start, bool) or not isinstance(start, int | np.integer) or start < 0:
        raise ParameterError("start", start, "a whole number >= 0")
    runs = run_points(
        _evaluate,
        ({"draw": r} for r in range(int(start), int(start) + int(replications))),
        (design, options, seed),
        root_seed=seed,
        executor=executor,
        workers=workers,
        scheduler=scheduler,
        progress=progress,
        label="replications",
    )
    failed = runs[runs["error"].notna()]
    if not failed.empty:
        raise ParameterError(
            "replication", int(failed["draw"].iloc[0]), f"one that runs ({failed['error'].iloc[0]})"
        )
    value_columns = [c for c in runs.columns if c.count(_SEP) == 4]
    long = runs.melt(id_vars=["draw", "seed"], value_vars=value_columns)
    parts = long["variable"].str.rsplit(_SEP, n=1, expand=True)
    long["key"], long["field"] = parts[0], parts[1]
    wide = long.pivot_table(
        index=["draw", "key"], columns="field", values="value", dropna=False, sort=False
    ).reset_index()
    wide["seed"] = [replication_seed(seed, int(d)) for d in wide["draw"]]
    keys = wide["key"].str.split(_SEP, expand=True)
    wide["estimator"], wide["outcome"], wide["term"], wide["estimand"] = (
        keys[0],
        keys[1],
        keys[2],
        keys[3],
    )
    wide = wide.rename(columns={"draw": "replication"})
    keys_in_order = dict.fromkeys(c.rsplit(_SEP, 1)[0] for c in value_columns)
    order = {name: i for i, name in enumerate(keys_in_order)}
    wide["_order"] = wide["key"].map(order)
    wide = wide.sort_values(["replication", "_order"]).reset_index(drop=True)
    return wide[list(MC_COLUMNS)]


def summarise_monte_carlo(mc: pd.DataFrame) -> pd.DataFrame:
    """Bias, RMSE and 95% coverage per estimator and term (terms with an estimand).

    Parameters
    ----------
    mc : pandas.DataFrame
        :func:`monte_carlo` output.

    Returns
    -------
    pandas.DataFrame
        :data:`SUMMARY_COLUMNS`: ``truth`` is the mean truth over replications (each
        replication's estimate is judged against its own panel's truth); ``bias_mc_se``
        is the standard deviation of the errors over ``sqrt(R)``; ``coverage_mc_se``
        ``sqrt(c (1 - c) / R)``; ``bias_incidence`` and ``coverage_incidence`` judge
        the same estimates against the effect on incidence.
    """
    needed = set(MC_COLUMNS) - {"seed"}
    if not isinstance(mc, pd.DataFrame) or needed - set(mc.columns):
        raise ParameterError("mc", type(mc).__name__, "monte_carlo() output")
    data = mc[mc["estimand"].astype(str) != ""].copy()
    err = data["estimate"] - data["truth"]
    half = _Z * data["std_error"]
    data["_err"] = err
    data["_sq"] = err**2
    data["_cover"] = (err.abs() <= half).astype(float)
    err_inc = data["estimate"] - data["truth_incidence"]
    data["_err_inc"] = err_inc
    data["_cover_inc"] = (err_inc.abs() <= half).astype(float)
    keys = ["estimator", "outcome", "term", "estimand"]
    g = data.groupby(keys, sort=False)
    out = g.agg(
        replications=("estimate", "size"),
        truth=("truth", "mean"),
        mean_estimate=("estimate", "mean"),
        bias=("_err", "mean"),
        _err_sd=("_err", "std"),
        _mse=("_sq", "mean"),
        coverage=("_cover", "mean"),
        mean_std_error=("std_error", "mean"),
        sd_estimate=("estimate", "std"),
        bias_incidence=("_err_inc", "mean"),
        coverage_incidence=("_cover_inc", "mean"),
    ).reset_index()
    r = out["replications"]
    out["bias_mc_se"] = out.pop("_err_sd") / np.sqrt(r)
    out["rmse"] = np.sqrt(out.pop("_mse"))
    out["coverage_mc_se"] = np.sqrt(out["coverage"] * (1 - out["coverage"]) / r)
    return out[list(SUMMARY_COLUMNS)]


#: Files of a Monte Carlo folder (:func:`run_monte_carlo`).
MANIFEST = "manifest.json"
PARTS = "parts"
SUMMARY = "summary.csv"


def run_monte_carlo(
    out: str | os.PathLike,
    design: PanelDesign,
    replications: int,
    seed: int = 0,
    *,
    chunk: int = 25,
    resume: bool = False,
    executor: str = "auto",
    workers: int | None = None,
    scheduler: str | None = None,
    progress: bool = False,
    leads: int = 6,
    lags: int = 12,
    estimators: tuple[str, ...] | None = None,
) -> pd.DataFrame:
    """:func:`monte_carlo` into a folder, in pieces, resumably.

    ``out/manifest.json`` holds the design and settings; every ``chunk`` replications
    are written, atomically, to ``out/parts/replications-NNNNNN.parquet`` as they
    finish; ``out/summary.csv`` is :func:`summarise_monte_carlo` of them all. With
    ``resume`` a run interrupted in ``out`` goes on from the pieces it has: the seeds
    depend on each replication's number only, so the numbers are those of one
    uninterrupted run.

    Returns
    -------
    pandas.DataFrame
        The summary.

    Raises
    ------
    ParameterError
        For a folder that already holds a run (without ``resume``), ``resume`` with a
        folder that holds none, or a setting that differs from the run in the folder
        (naming it).
    """
    if isinstance(chunk, bool) or not isinstance(chunk, int | np.integer) or chunk < 1:
        raise ParameterError("chunk", chunk, "a whole number >= 1")
    if not isinstance(design, PanelDesign):
        raise ParameterError("design", type(design).__name__, "a PanelDesign")
    folder = Path(out)
    settings = {
        "design": design.to_dict(),
        "replications": int(replications),
        "seed": check_seed(seed),
        "chunk": int(chunk),
        "leads": leads,
        "lags": lags,
        "estimators": None if estimators is None else list(estimators),
    }
    manifest = folder / MANIFEST
    if manifest.exists():
        if not resume:
            raise ParameterError(
                "out", str(folder), "a folder without a Monte Carlo, or resume to finish it"
            )
        before = json.loads(manifest.read_text(encoding="utf-8"))
        for key, value in settings.items():
            if json.loads(json.dumps(value)) != before.get(key):
                raise ParameterError(
                    key, value, f"{before.get(key)!r}, as the Monte Carlo in {folder} has"
                )
    elif resume:
        raise ParameterError("resume", True, f"a folder with a Monte Carlo ({folder} has none)")
    else:
        write_text(manifest, json.dumps(settings, indent=2) + "\n")
    parts = folder / PARTS
    for first in range(0, int(replications), int(chunk)):
        path = parts / f"replications-{first:06d}.parquet"
        if path.exists():
            continue
        frame = monte_carlo(
            design,
            min(int(chunk), int(replications) - first),
            seed,
            start=first,
            executor=executor,
            workers=workers,
            scheduler=scheduler,
            progress=progress,
            leads=leads,
            lags=lags,
            estimators=estimators,
        )
        write_table(frame, path)
    mc = pd.concat([read_table(p) for p in sorted(parts.glob("replications-*.parquet"))])
    summary = summarise_monte_carlo(mc.reset_index(drop=True))
    write_table(summary, folder / SUMMARY)
    return summary


def monte_carlo_table(summary: pd.DataFrame) -> pd.DataFrame:
    """:func:`summarise_monte_carlo` as a paper prints it: one row per estimator (the event
    study by its post average), the true effect, the bias and the coverage beside their
    Monte Carlo errors, the RMSE, and the coverage of no effect on incidence."""
    missing = [c for c in SUMMARY_COLUMNS if c not in summary.columns]
    if missing:
        raise ParameterError("summary", f"without {missing}", "summarise_monte_carlo() output")
    rows = without_event_terms(summary)
    return pd.DataFrame(
        {
            "estimator": rows["estimator"],
            "true effect": rows["truth"],
            "bias (Monte Carlo error)": [
                f"{b:+.3f} ({e:.3f})" for b, e in zip(rows["bias"], rows["bias_mc_se"], strict=True)
            ],
            "RMSE": rows["rmse"],
            "95% coverage (Monte Carlo error)": [
                f"{c:.0%} ({e:.0%})"
                for c, e in zip(rows["coverage"], rows["coverage_mc_se"], strict=True)
            ],
            "coverage of no effect on incidence": [f"{c:.0%}" for c in rows["coverage_incidence"]],
        }
    )
