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

import numpy as np

from tipresearch.checks import check_seed
from tipresearch.errors import ParameterError

from .bureaus import Bureaus, draw_bureaus
from .decision import best_thresholds, tabulated_moments
from .dynamics import Dynamics
from .effort import effort_factor
from .metrics import Metric, get_metric
from .outputs import COUNT_COLUMNS
from .params import ModelParams

__all__ = ["TOTALS", "expected_flows", "expected_totals", "type_moments"]

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
    opened = lam * p_open
    h = effort_factor(opened, cap, params.effort_half, params.dispersion)
    solved = lam * mass * h
    victims = solved * np.array([ct.victims_per_solved for ct in params.case_types])
    mean_s = np.array([ct.mean_solvability for ct in params.case_types])
    return opened, solved, victims, np.maximum(lam * (mean_s - mass), 0.0)


def _geometric_stock(inflow: np.ndarray, carry: np.ndarray, periods: int) -> np.ndarray:
    """``inflow (1 + c + ... + c^t)`` for ``t = 0 .. periods - 1``, shape (periods, types).

    The stock at the end of month ``t`` of a linear recursion with constant inflow and
    carried share ``c`` (``docs/model.md``, §3.3.14); the partial geometric sums are
    accumulated, so ``c = 1`` needs no special case.
    """
    factors = np.vstack([np.ones((1, carry.size)), np.tile(carry, (periods - 1, 1))])
    powers = np.cumprod(factors, axis=0)
    return np.cumsum(powers, axis=0) * inflow


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
    metric = get_metric(metric)
    if dynamics is not None and dynamics.has_feedback:
        raise ParameterError(
            "dynamics", dynamics, "no feedback (use simulate(engine='expected') for feedback)"
        )
    if isinstance(periods, bool) or not isinstance(periods, int | np.integer) or periods < 1:
        raise ParameterError("periods", periods, "a whole number >= 1")
    if bureaus is None:
        ss_bureaus, _ = np.random.SeedSequence(check_seed(seed)).spawn(2)
        bureaus = draw_bureaus(params, ss_bureaus)
    shares = np.array([ct.share for ct in params.case_types])
    lam = bureaus.reports[:, None] * shares
    cap = bureaus.capacity[:, None] * shares
    tau = best_thresholds(params, metric, lam, cap)
    opened, solved, _, dsolv = expected_flows(params, lam, cap, *type_moments(params, tau))
    flows = {
        "reports": lam.sum(axis=0),
        "opened": opened.sum(axis=0),
        "solved": solved.sum(axis=0),
        "declined_solvable": dsolv.sum(axis=0),
    }
    flows["declined"] = flows["reports"] - flows["opened"]
    victims = np.array([ct.victims_per_solved for ct in params.case_types])
    eta = np.array([ct.backlog_hazard for ct in params.case_types])
    recall = np.array([ct.recall_prob for ct in params.case_types])
    rho = params.backlog_attrition
    n_t = int(periods)
    unsolved = flows["opened"] - flows["solved"]
    # The carried stocks solve x[t] = x[t-1] (1 - leave) (1 - rho) + inflow, x[-1] = 0,
    # so x[t] = inflow (1 + c + ... + c^t) with c = (1 - leave)(1 - rho).
    backlog = _geometric_stock(unsolved, (1.0 - eta) * (1.0 - rho), n_t)
    stock_g = _geometric_stock(flows["declined_solvable"], (1.0 - recall) * (1.0 - rho), n_t)
    late = np.vstack([np.zeros((1, shares.size)), backlog[:-1]]) * eta
    recalled = np.vstack([np.zeros((1, shares.size)), stock_g[:-1]]) * recall
    out = {name: np.broadcast_to(v, (n_t, v.size)).copy() for name, v in flows.items()}
    out["solved_backlog"] = late
    out["recalled"] = recalled
    out["backlog"] = backlog
    out["victims_rescued"] = (out["solved"] + late + recalled) * victims
    return {name: out[name] for name in TOTALS}
