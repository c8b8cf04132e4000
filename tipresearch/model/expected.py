"""Totals of the expected-value engine for a run with fixed rules, without a frame.

A run without a schedule and without feedback (no learning, deterrence or effort
shared with the backlog) plans every month the same way: each bureau's thresholds,
expected reports and capacity do not change. Its expected flows per bureau are then
the same every month, and the backlog and the stock of declined reports follow linear
recursions whose coefficients are the same for every bureau of a case type, so their
totals over bureaus follow the same recursions (``docs/model.md``, §3.3.14).
:func:`expected_totals` computes those totals per month and case type directly: what
:func:`tipresearch.model.engines.simulate` with ``engine="expected"`` gives, summed
over bureaus, without building its one row per bureau, type and month. Sweeps use
it for many points at a time (:func:`tipresearch.experiments.point.model_points`).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import numpy as np

from tipresearch.checks import check_seed
from tipresearch.errors import ParameterError

from .bureaus import Bureaus, bureau_normals, bureaus_from_normals
from .decision import best_thresholds_many, tabulated_moments
from .dynamics import Dynamics
from .effort import effort_factor
from .metrics import Metric, get_metric
from .outputs import COUNT_COLUMNS
from .params import ModelParams

__all__ = [
    "TOTALS",
    "expected_flows",
    "expected_totals",
    "expected_totals_many",
    "type_moments",
]

#: The totals :func:`expected_totals` returns: the frame's counts.
TOTALS = COUNT_COLUMNS


def type_moments(params: ModelParams, tau: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``P(open)`` and ``E[s' 1(open)]`` at thresholds ``tau`` (..., types), per case type.

    :func:`tipresearch.model.decision.tabulated_moments` for each type's column
    (``docs/model.md``, §3.3.4 and §3.3.5).
    """
    p, m = np.empty_like(tau), np.empty_like(tau)
    for k, ct in enumerate(params.case_types):
        p[..., k], m[..., k] = tabulated_moments(tau[..., k], ct, params.screening_noise)
    return p, m


def expected_flows(
    params: ModelParams,
    lam: np.ndarray,
    cap: np.ndarray,
    p_open: np.ndarray,
    mass: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Expected opened, solved, victims of new solves and declined-but-solvable reports.

    ``E[O] = lam P``, ``E[S] = lam M h_eff(lam P)`` with the effort factor averaged
    over the number opened (:func:`tipresearch.model.effort.effort_factor`, exact for
    Poisson and negative binomial counts), victims ``v E[S]`` and ``lam (E[s'] - M)``
    (``docs/model.md``, §3.3.6 and §3.3.14). Arrays end in the case-type axis.
    """
    victims = np.array([ct.victims_per_solved for ct in params.case_types])
    mean_s = np.array([ct.mean_solvability for ct in params.case_types])
    return _flows(lam, cap, p_open, mass, params.effort_half, params.dispersion, victims, mean_s)


def _flows(
    lam: np.ndarray,
    cap: np.ndarray,
    p_open: np.ndarray,
    mass: np.ndarray,
    effort_half: float | np.ndarray,
    dispersion: float,
    victims: np.ndarray,
    mean_s: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """:func:`expected_flows` with the parameters it needs given (per row, or per type)."""
    opened = lam * p_open
    h = effort_factor(opened, cap, effort_half, dispersion)
    solved = lam * mass * h
    return opened, solved, solved * victims, np.maximum(lam * (mean_s - mass), 0.0)


def _geometric_stock(inflow: np.ndarray, carry: np.ndarray, periods: int) -> np.ndarray:
    """``inflow (1 + c + ... + c^t)`` for ``t = 0 .. periods - 1``, shape (runs, periods, types).

    The stock at the end of month ``t`` of a linear recursion with constant inflow and
    carried share ``c`` (``docs/model.md``, §3.3.14), for each run's ``inflow`` and
    ``carry`` (shape (runs, types)); the partial geometric sums are accumulated, so
    ``c = 1`` needs no special case.
    """
    factors = np.broadcast_to(carry[:, None, :], (carry.shape[0], periods, carry.shape[1])).copy()
    factors[:, 0, :] = 1.0
    return np.cumsum(np.cumprod(factors, axis=1), axis=1) * inflow[:, None, :]


def expected_totals(
    params: ModelParams,
    metric: str | Metric,
    periods: int,
    seed: int = 0,
    *,
    dynamics: Dynamics | None = None,
    bureaus: Bureaus | None = None,
) -> dict[str, np.ndarray]:
    """Each count's expectation, summed over bureaus, per month and case type.

    Parameters
    ----------
    params : ModelParams
    metric : str or Metric
        The rating every bureau maximises, every month.
    periods : int
        Months (>= 1).
    seed : int
        Root seed of the run: its bureaus are those :func:`simulate` draws from it.
    dynamics : Dynamics, optional
        Only settings without feedback (partial adjustment changes nothing here: the
        thresholds start at the best response and stay there).
    bureaus : Bureaus, optional
        Use these bureaus instead of drawing them.

    Returns
    -------
    dict of str to ndarray, shape (periods, types)
        :data:`TOTALS`. ``reports``, ``opened``, ``declined``, ``solved`` and
        ``declined_solvable`` are the same every month; ``solved_backlog``,
        ``recalled``, ``backlog`` and ``victims_rescued`` follow the backlog and
        recall recursions (``docs/model.md``, §3.3.10 and §3.3.14).

    Raises
    ------
    ParameterError
        For dynamics with feedback, which need the month-by-month engine.
    """
    if dynamics is not None and dynamics.has_feedback:
        raise ParameterError(
            "dynamics", dynamics, "no feedback (use simulate(engine='expected') for feedback)"
        )
    many = expected_totals_many([(params, metric)], [seed], periods, bureaus=[bureaus])
    return {name: v[0] for name, v in many.items()}


def expected_totals_many(
    runs: Sequence[tuple[ModelParams, str | Metric]],
    seeds: Sequence[int],
    periods: int,
    *,
    bureaus: Sequence[Bureaus | None] | None = None,
) -> dict[str, np.ndarray]:
    """:func:`expected_totals` of many runs in one call, stacked along a first axis.

    Each run's thresholds are searched as if alone, every run's in one compiled call
    (:func:`tipresearch.model.decision.best_thresholds_many`); the rest
    (the effort factor of every bureau of every run, the sums over bureaus, the backlog
    and recall recursions) is computed for all runs together, so that its cost per
    call is paid once. A run's totals do not depend on the other runs of the call:
    they are the same numbers :func:`expected_totals` gives for it alone.

    Parameters
    ----------
    runs : sequence of (ModelParams, metric)
        Each run's parameters and rating; all runs have the same number of case types.
    seeds : sequence of int
        Each run's root seed (its bureaus, as in :func:`expected_totals`).
    periods : int
        Months (>= 1), the same for every run.
    bureaus : sequence of Bureaus or None, optional
        Each run's bureaus instead of those drawn from its seed (None: drawn).

    Returns
    -------
    dict of str to ndarray, shape (runs, periods, types)
        :data:`TOTALS` of each run.

    Raises
    ------
    ParameterError
        For a seed count other than the runs', runs with different numbers of case
        types, or ``periods`` not a whole number >= 1.
    """
    if isinstance(periods, bool) or not isinstance(periods, int | np.integer) or periods < 1:
        raise ParameterError("periods", periods, "a whole number >= 1")
    if len(seeds) != len(runs):
        raise ParameterError("seeds", len(seeds), f"one seed per run ({len(runs)})")
    if bureaus is None:
        bureaus = [None] * len(runs)
    if not runs:
        return {name: np.empty((0, int(periods), 0)) for name in TOTALS}
    n_k = len(runs[0][0].case_types)
    if any(len(params.case_types) != n_k for params, _ in runs):
        raise ParameterError(
            "runs", [len(params.case_types) for params, _ in runs], "the same number of case types"
        )
    rows: dict[str, list[np.ndarray]] = {k: [] for k in ("lam", "cap", "p", "m")}
    runs = [(params, get_metric(metric)) for params, metric in runs]
    for (params, _), seed, own in zip(runs, seeds, bureaus, strict=True):
        if own is None:
            own = bureaus_from_normals(params, _bureau_normals(check_seed(seed), params.n_bureaus))
        shares = np.array([ct.share for ct in params.case_types])
        rows["lam"].append(own.reports[:, None] * shares)
        rows["cap"].append(own.capacity[:, None] * shares)
    # every run's thresholds searched in one compiled call (each as if alone)
    for _, p_open, mass in best_thresholds_many(runs, rows["lam"], rows["cap"], moments=True):
        rows["p"].append(p_open)
        rows["m"].append(mass)
    sizes = np.array([x.shape[0] for x in rows["lam"]])
    if not sizes.all():  # reduceat would give an empty run its neighbour's first row
        raise ParameterError("bureaus", sizes.tolist(), "at least one bureau in every run")
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    lam, cap, p_open, mass = (np.concatenate(rows[k]) for k in ("lam", "cap", "p", "m"))

    def per_run(values: Sequence[float]) -> np.ndarray:  # one value per run -> per bureau
        return np.repeat(np.asarray(values, dtype=float), sizes, axis=0)

    def per_type(attr: str) -> np.ndarray:  # (runs, types)
        return np.array([[getattr(ct, attr) for ct in params.case_types] for params, _ in runs])

    # the flows of every bureau of every run, one call per dispersion among the runs
    half = per_run([params.effort_half for params, _ in runs])[:, None]
    dispersion = per_run([params.dispersion for params, _ in runs])
    victims_row = per_run(per_type("victims_per_solved"))
    mean_s = per_run(per_type("mean_solvability"))
    opened, solved, dsolv = (np.empty_like(lam) for _ in range(3))
    for d in np.unique(dispersion):
        at = dispersion == d
        opened[at], solved[at], _, dsolv[at] = _flows(
            lam[at], cap[at], p_open[at], mass[at], half[at], float(d), victims_row[at], mean_s[at]
        )
    flows = {"reports": lam, "opened": opened, "solved": solved, "declined_solvable": dsolv}
    # sums over each run's bureaus, shape (runs, types)
    flows = {name: np.add.reduceat(v, starts, axis=0) for name, v in flows.items()}
    flows["declined"] = flows["reports"] - flows["opened"]
    victims, eta, recall = (
        per_type(a) for a in ("victims_per_solved", "backlog_hazard", "recall_prob")
    )
    rho = np.array([params.backlog_attrition for params, _ in runs])[:, None]
    n_t = int(periods)
    unsolved = flows["opened"] - flows["solved"]
    # The carried stocks solve x[t] = x[t-1] (1 - leave) (1 - rho) + inflow, x[-1] = 0,
    # so x[t] = inflow (1 + c + ... + c^t) with c = (1 - leave)(1 - rho).
    backlog = _geometric_stock(unsolved, (1.0 - eta) * (1.0 - rho), n_t)
    stock_g = _geometric_stock(flows["declined_solvable"], (1.0 - recall) * (1.0 - rho), n_t)
    late = np.zeros_like(backlog)
    late[:, 1:] = backlog[:, :-1] * eta[:, None, :]
    recalled = np.zeros_like(stock_g)
    recalled[:, 1:] = stock_g[:, :-1] * recall[:, None, :]
    out = {
        name: np.broadcast_to(v[:, None, :], (v.shape[0], n_t, n_k)).copy()
        for name, v in flows.items()
    }
    out["solved_backlog"] = late
    out["recalled"] = recalled
    out["backlog"] = backlog
    out["victims_rescued"] = (out["solved"] + late + recalled) * victims[:, None, :]
    return {name: out[name] for name in TOTALS}


@lru_cache(maxsize=32)
def _bureau_normals(seed: int, n_bureaus: int) -> np.ndarray:
    """The normal draws of a run's bureaus, from the first of its root seed's two
    children, as in :func:`tipresearch.model.engines.simulate`. Kept per seed and size
    (a sweep with common random numbers gives every run the same ones), read-only.

    The child is made directly, as ``SeedSequence.spawn`` makes it (the root's entropy
    and spawn key ``(0,)``): the same numbers in a third of the time, without the root
    and its second child."""
    z = bureau_normals(np.random.SeedSequence(seed, spawn_key=(0,)), n_bureaus)
    z.setflags(write=False)
    return z
