"""Expected outcomes of an intake threshold, and the threshold that maximises a metric.

For a case type with solvability ``s ~ Beta(a, b)``, DNA effect ``delta`` and
screening noise ``sigma``, a report is opened when ``s' + sigma z >= tau`` with
``s' = delta + (1 - delta) s`` (``docs/model.md``, §3.3.2 "Solvability and the DNA
database" and §3.3.3 "Screening"). With ``sigma = 0`` and
``u = (tau - delta) / (1 - delta)`` clipped to [0, 1]::

    P(open)        = 1 - I_u(a, b)
    E[s' 1(open)]  = delta P(open) + (1 - delta) a / (a + b) (1 - I_u(a + 1, b))

(``I`` the regularized incomplete beta; ``docs/model.md``, §3.3.4 "Intake moments
from the regularized incomplete beta" and §3.3.5 "Screening noise by quadrature"). With
``sigma > 0`` both are averaged over the noise (Gauss-Legendre quadrature between
the kinks at ``tau + sigma z = delta`` and ``= 1``), since opening at noise ``z``
is opening with the hard threshold ``tau - sigma z``.

Effort is diluted over the opened cases: with ``O`` open cases and capacity
``K`` each gets ``e = K / O`` and is solved with probability ``s' h(e)``,
``h(e) = e / (e + e_half)`` (``docs/model.md``, §3.3.6 "Dilution of effort"), so
``E[S] = lam E[s' 1(open)] h_eff(lam P(open))`` with ``h_eff(mu) = E[O h(O)] / mu``
the effort factor averaged over the random number opened
(:func:`tipresearch.model.effort.effort_factor`, a closed form in Kummer's
function); putting the expected count inside ``h`` would overstate solved cases.
The clearance rate is the ratio of expectations ``E[S] / E[O]``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd
from scipy import special

from tipresearch.errors import ParameterError

from .effort import MU_MAX, EffortRows, effort_factor, effort_factor_fast
from .metrics import PLANNER, Metric, get_metric
from .params import CaseType, ModelParams
from .search import search_groups, search_thresholds

__all__ = [
    "intake_moments",
    "later_solve_share",
    "tabulated_moments",
    "expected_outcomes",
    "best_response",
    "best_thresholds",
    "best_thresholds_many",
    "planner_response",
    "Response",
]

_FINE_POINTS = 1025  # points of the tabulated P(tau), M(tau) per case type
_COARSE_STEP = 8  # coarse search uses every 8th tabulated point
_REFINE_POINTS = 17  # points of each refining grid
_REFINE_STAGES = 6  # refining grids: the bracket shrinks 8-fold per stage
_REFINE_UNIT = np.linspace(0.0, 1.0, _REFINE_POINTS)
_MAX_REFINE = 8  # finest convolution grid for small screening noise: 8 x 1,025 points
_BISECT_ITERATIONS = 40  # bisection for the threshold where a bonus target is reached
_CHUNK = 1 << 20  # elements per (bureau x grid) block, bounds memory


def _moments_hard(t: np.ndarray, a: float, b: float, delta: float) -> tuple[np.ndarray, np.ndarray]:
    u = np.clip((t - delta) / (1.0 - delta), 0.0, 1.0)
    p = special.betaincc(a, b, u)
    m = delta * p + (1.0 - delta) * (a / (a + b)) * special.betaincc(a + 1.0, b, u)
    return p, m


def intake_moments(
    tau: np.ndarray | float, case_type: CaseType, noise: float, *, nodes: int = 96
) -> tuple[np.ndarray, np.ndarray]:
    """Probability of opening a report and expected solvability mass of opened reports.

    Parameters
    ----------
    tau : array_like
        Intake thresholds.
    case_type : CaseType
        Solvability shapes ``a, b`` and DNA effect ``delta``.
    noise : float
        Screening noise ``sigma >= 0``.
    nodes : int
        Gauss-Legendre nodes between the kinks (``sigma > 0``).

    Returns
    -------
    p_open, mass : ndarray
        ``P(s' + sigma z >= tau)`` and ``E[s' 1(open)]``, shaped like ``tau``.

    References
    ----------
    ``docs/model.md``, §3.3.4 "Intake moments from the regularized incomplete beta"
    (closed forms for ``sigma = 0``) and §3.3.5 "Screening noise by quadrature"
    (``sigma > 0``).
    """
    tau = np.asarray(tau, dtype=float)
    a, b, d = case_type.beta_a, case_type.beta_b, case_type.dna_effect
    if noise == 0:
        return _moments_hard(tau, a, b, d)
    return _quadrature(tau, a, b, d, noise, nodes, _moments_hard)


_Z_MAX = 9.0


def _quadrature(
    tau: np.ndarray, a: float, b: float, d: float, noise: float, nodes: int, hard
) -> tuple[np.ndarray, np.ndarray]:
    """The moments averaged over the screening noise (§3.3.5), ``hard`` the hard ones.

    The noise is split at the kinks of the hard moments: for ``t = tau + sigma z <=
    delta`` every report is opened, for ``t >= 1`` none is; in between, Gauss-Legendre.
    """
    z1 = np.clip((d - tau) / noise, -_Z_MAX, _Z_MAX)
    z2 = np.clip((1.0 - tau) / noise, -_Z_MAX, _Z_MAX)
    x, w = _legendre(nodes)
    half = 0.5 * (z2 - z1)
    z = (0.5 * (z1 + z2))[..., None] + half[..., None] * x
    weight = half[..., None] * w * _phi(z)
    p_mid, m_mid = hard(tau[..., None] + noise * z, a, b, d)
    below = special.ndtr(z1)
    p = below + np.sum(weight * p_mid, axis=-1)
    m = below * (d + (1.0 - d) * a / (a + b)) + np.sum(weight * m_mid, axis=-1)
    return p, m


@lru_cache(maxsize=4)
def _legendre(nodes: int) -> tuple[np.ndarray, np.ndarray]:
    return np.polynomial.legendre.leggauss(nodes)


def _phi(z: np.ndarray) -> np.ndarray:
    return np.exp(-0.5 * z * z) / np.sqrt(2.0 * np.pi)


_UNIT_POINTS = 8193  # points of the cached incomplete-beta tables on [0, 1] per shape pair


def _unit_grid(a: float, b: float, points: int) -> np.ndarray:
    """``points`` values of ``u`` on [0, 1]: Beta(a, b) quantiles and an even grid, merged.

    Dense where solvability has mass and nowhere sparser than an even grid; resampled
    by position to exactly ``points`` values, so every ``k``-th point is an even step.
    """
    n_q = (points + 1) // 2
    quantile_u = special.betaincinv(a, b, np.linspace(0, 1, n_q))
    linear_u = np.linspace(0.0, 1.0, points - n_q + 2)
    u = np.unique(np.concatenate([quantile_u, linear_u]))
    return np.interp(np.linspace(0, u.size - 1, points), np.arange(u.size), u)


@lru_cache(maxsize=64)
def _unit_table(a: float, b: float, points: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``u``, ``I^c_u(a, b)`` and ``I^c_u(a + 1, b)`` on :func:`_unit_grid`, once per shape pair.

    The hard-threshold moments depend on the DNA effect only through
    ``u = (tau - delta) / (1 - delta)``, so one table per solvability shape serves every
    DNA effect and screening noise (``docs/model.md``, §3.3.4).
    """
    u = _unit_grid(a, b, points)
    out = (u, special.betaincc(a, b, u), special.betaincc(a + 1.0, b, u))
    for arr in out:
        arr.setflags(write=False)
    return out


def _moments_hard_tabulated(
    t: np.ndarray, a: float, b: float, delta: float
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_moments_hard` by linear interpolation in :func:`_unit_table`."""
    u_f, p_f, q_f = _unit_table(a, b, _UNIT_POINTS)
    u = np.clip((t - delta) / (1.0 - delta), 0.0, 1.0)
    p = np.interp(u, u_f, p_f)
    return p, delta * p + (1.0 - delta) * (a / (a + b)) * np.interp(u, u_f, q_f)


def _smoothed(
    wide: np.ndarray, kernel: np.ndarray, a: float, b: float, delta: float
) -> tuple[np.ndarray, np.ndarray]:
    """The hard moments on the rising grid ``wide`` convolved with ``kernel`` ('valid').

    The hard moments are constant where ``t <= delta`` (every report opened) and 0
    where ``t >= 1``: only the points in between are evaluated and convolved, and the
    constant part of each output is the kernel's mass over it (a cumulative sum).
    The same sums as convolving every point, in another order.
    """
    width, half2 = kernel.size, kernel.size - 1
    out = wide.size - half2
    w_a = int(np.searchsorted(wide, delta, side="right"))  # first point above delta
    w_b = max(int(np.searchsorted(wide, 1.0, side="left")), w_a)  # first point at 1 or above
    # at t = delta (u = 0) the interpolation gives the unit table's first entries
    _, p_f, q_f = _unit_table(a, b, _UNIT_POINTS)
    p_top = p_f[0]
    m_top = delta * p_top + (1.0 - delta) * (a / (a + b)) * q_f[0]
    # the kernel's mass over the points below delta, for each output i: k[0 .. w_a - i)
    mass = np.concatenate([[0.0], np.cumsum(kernel)])[np.clip(w_a - np.arange(out), 0, width)]
    p, m = mass * p_top, mass * m_top
    if w_b > w_a:
        p_mid, m_mid = _moments_hard_tabulated(wide[w_a:w_b], a, b, delta)
        # output i takes full[i + half2 - w_a] of the full convolution of the middle
        lo = max(w_a - half2, 0)
        hi = min(w_b, out)
        at = slice(lo + half2 - w_a, hi + half2 - w_a)
        p[lo:hi] += np.convolve(p_mid, kernel)[at]
        m[lo:hi] += np.convolve(m_mid, kernel)[at]
    return p, m


@lru_cache(maxsize=1024)
def _table(
    a: float, b: float, delta: float, noise: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Thresholds with tabulated P(open) and E[s' 1(open)], computed once per case type.

    With ``sigma = 0`` the thresholds are dense where solvability has mass
    (:func:`_unit_grid` mapped to ``delta + (1 - delta) u``) and the moments are the
    closed forms on them, from :func:`_unit_table`. With ``sigma > 0`` the
    hard-threshold moments (interpolated in the finer unit table) on an even grid over
    ``[delta - 6 sigma, 1 + 6 sigma]`` are convolved with the normal density of the
    noise (discrete Gauss transform), which is exact up to the grid spacing because
    the hard moments are constant outside ``[delta, 1]`` (so only the points between
    are convolved, :func:`_smoothed`); for noise below eight grid
    steps, the same on a grid up to eight times finer (every k-th point kept), and
    below one grid step, the quadrature of :func:`intake_moments` (24 nodes) on the
    interpolated hard moments.
    """
    if noise == 0:
        u, p_u, q_u = _unit_table(a, b, _FINE_POINTS)
        tau = delta + (1.0 - delta) * u
        p = p_u.copy()
        m = delta * p + (1.0 - delta) * (a / (a + b)) * q_u
    else:
        lo, hi = delta - 6.0 * noise, 1.0 + 6.0 * noise
        tau = np.linspace(lo, hi, _FINE_POINTS)
        step = tau[1] - tau[0]
        # the noise must span eight steps of the convolution's grid: below that, a
        # grid `refine` times finer, every refine-th point kept
        refine = 1 if noise >= 8 * step else int(np.ceil(8 * step / noise))
        if refine > _MAX_REFINE:
            # noise this small spans a short stretch of thresholds where the hard
            # moments are nearly smooth: 24 nodes agree with 96 to within 1e-4
            p, m = _quadrature(tau, a, b, delta, noise, 24, _moments_hard_tabulated)
        else:
            fine = step / refine
            half = int(np.ceil(6.0 * noise / fine))
            offsets = np.arange(-half, half + 1) * fine
            kernel = np.exp(-0.5 * (offsets / noise) ** 2)
            kernel /= kernel.sum()
            wide = lo + fine * np.arange(-half, (_FINE_POINTS - 1) * refine + 1 + half)
            p, m = _smoothed(wide, kernel, a, b, delta)
            p, m = p[::refine], m[::refine]
    # rounding in the convolution can leave 1 + 2e-16; probabilities stay in [0, 1]
    p, m = np.clip(p, 0.0, 1.0), np.clip(m, 0.0, 1.0)
    for arr in (tau, p, m):
        arr.setflags(write=False)
    return tau, p, m


def later_solve_share(ct: CaseType, params: ModelParams) -> float:
    """Share of opened-but-unsolved cases solved later from the backlog.

    A backlog case is solved each period with hazard ``eta`` (the type's
    ``backlog_hazard``) and leaves the backlog unsolved with hazard ``rho``
    (``backlog_attrition``, applied after the period's cold-case solves), so it is
    eventually solved with probability ``eta / (eta + (1 - eta) rho)``
    (``docs/model.md``, §3.3.7 "Victims and the backlog": what gives recording its
    own value).
    """
    eta, rho = ct.backlog_hazard, params.backlog_attrition
    return 0.0 if eta == 0 else eta / (eta + rho * (1.0 - eta))


def tabulated_moments(tau: np.ndarray, ct: CaseType, noise: float) -> tuple[np.ndarray, np.ndarray]:
    """:func:`intake_moments` by linear interpolation in a cached table (error below 1e-5)."""
    tau_f, p_f, m_f = _table(ct.beta_a, ct.beta_b, ct.dna_effect, noise)
    return np.interp(tau, tau_f, p_f), np.interp(tau, tau_f, m_f)


def _score(
    metric: Metric,
    params: ModelParams,
    ct: CaseType,
    lam: np.ndarray,
    cap: np.ndarray,
    p: np.ndarray,
    m: np.ndarray,
    effort: EffortRows | None = None,
    audit_q: np.ndarray | None = None,
) -> np.ndarray:
    """Expected metric score; broadcasts ``lam, cap`` against ``p, m``.

    Victims count those rescued now and, in expectation, later from the backlog.
    ``effort``, the effort-factor rows of these bureaus, saves the table lookups of
    their capacities when the score is evaluated many times. ``audit_q``, broadcast
    like ``lam``, gives each row its own audit probability instead of the type's.
    """
    opened = lam * p
    if effort is None:
        h = effort_factor_fast(opened, cap, params.effort_half, params.dispersion)
    else:
        h = effort(opened)
    solved = lam * m * h
    q, pen = params.audit(ct)
    if audit_q is not None:
        q = audit_q
    audit = metric.penalty_weight * q * pen
    score = (metric.solved + metric.unsolved) * solved + (
        metric.opened - metric.unsolved - metric.cost_weight * params.handling_cost + audit
    ) * opened
    score = score - audit * lam
    if metric.victims:
        phi = later_solve_share(ct, params)
        score = score + metric.victims * ct.victims_per_solved * (solved + phi * (opened - solved))
    if metric.rate or metric.bonus:
        rate = np.divide(m * h, p, out=np.zeros(np.broadcast(m, h, p).shape), where=p > 1e-12)
        if metric.rate:
            score = score + metric.rate * lam * rate
        if metric.bonus:
            score = score + metric.bonus * lam * (rate >= metric.target - 1e-12)
    if metric.quota:
        score = score - metric.quota_penalty * np.maximum(metric.quota * lam - solved, 0.0)
    return score


@dataclass(frozen=True)
class Response:
    """Thresholds chosen by each bureau for each case type, with expected outcomes.

    Attributes
    ----------
    metric : Metric
        The metric maximised.
    case_types : tuple of str
        Column order of the arrays.
    threshold : ndarray, shape (B, K)
        Intake threshold ``tau`` per bureau and case type.
    outcomes : dict of str to ndarray (B, K)
        Expected reports, opened, declined, solved, clearance_rate, victims,
        declined_solvable and score at those thresholds.
    """

    metric: Metric
    case_types: tuple[str, ...]
    threshold: np.ndarray
    outcomes: dict[str, np.ndarray]

    def to_frame(self) -> pd.DataFrame:
        """One row per bureau and case type."""
        n_b, n_k = self.threshold.shape
        frame = pd.DataFrame(
            {
                "bureau": np.repeat(np.arange(n_b), n_k),
                "case_type": np.tile(np.array(self.case_types, dtype=object), n_b),
                "metric": self.metric.name,
                "threshold": self.threshold.ravel(),
            }
        )
        for key, arr in self.outcomes.items():
            frame[key] = arr.ravel()
        return frame


def _per_type_arrays(
    params: ModelParams, reports: np.ndarray | float | None, capacity: np.ndarray | float | None
) -> tuple[np.ndarray, np.ndarray]:
    """Expected reports and capacity per bureau and case type, shape (B, K).

    One-dimensional inputs are per bureau (all types) and are split by the
    types' shares; two-dimensional inputs are already per bureau and type.
    """
    shares = np.array([ct.share for ct in params.case_types])
    n_k = shares.size

    def split(x: np.ndarray) -> np.ndarray:
        if x.ndim == 2:
            if x.shape[1] != n_k:
                raise ParameterError("reports", x.shape, f"shape (B,) or (B, {n_k})")
            return x
        return np.atleast_1d(x)[:, None] * shares

    lam = split(np.asarray(params.reports_mean if reports is None else reports, dtype=float))
    if capacity is None:
        cap = params.capacity_ratio * lam
    else:
        cap = np.broadcast_to(split(np.asarray(capacity, dtype=float)), lam.shape)
    return lam, cap


def expected_outcomes(
    params: ModelParams,
    metric: str | Metric,
    threshold: np.ndarray,
    reports: np.ndarray | float | None = None,
    capacity: np.ndarray | float | None = None,
    *,
    exact: bool = True,
) -> dict[str, np.ndarray]:
    """Expected outcomes per bureau and case type at given thresholds.

    Parameters
    ----------
    params : ModelParams
    metric : str or Metric
        Metric whose score is reported.
    threshold : array_like, shape (B, K)
        Intake thresholds.
    reports, capacity : array_like, shape (B,) or (B, K), optional
        Expected reports and capacity per bureau (all types, split by the types'
        shares) or per bureau and type; default the mean bureau
        (``reports_mean`` and ``capacity_ratio * reports_mean``).
    exact : bool
        Intake moments by closed form / quadrature (True) or by interpolation in the
        tabulated moments (False, much faster for many bureaus, relative error below
        1e-5). The effort factor is always the exact expectation
        (:func:`tipresearch.model.effort.effort_factor`).

    Returns
    -------
    dict of str to ndarray (B, K)
        reports, opened, declined, solved, clearance_rate, victims,
        declined_solvable (declined reports that standard effort would solve),
        and score.
    """
    metric = get_metric(metric)
    lam_bk, cap_bk = _per_type_arrays(params, reports, capacity)
    tau = np.asarray(threshold, dtype=float).reshape(lam_bk.shape)
    cols: dict[str, list[np.ndarray]] = {}
    for k, ct in enumerate(params.case_types):
        lam, cap = lam_bk[:, k], cap_bk[:, k]
        moments = intake_moments if exact else tabulated_moments
        p, m = moments(tau[:, k], ct, params.screening_noise)
        opened = lam * p
        h = effort_factor(opened, cap, params.effort_half, params.dispersion)
        solved = lam * m * h
        values = {
            "reports": lam,
            "opened": opened,
            "declined": lam - opened,
            "solved": solved,
            "clearance_rate": np.divide(
                solved, opened, out=np.full_like(opened, np.nan), where=opened > 0
            ),
            "victims": solved * ct.victims_per_solved,
            "victims_later": later_solve_share(ct, params)
            * (opened - solved)
            * ct.victims_per_solved,
            "declined_solvable": lam * (ct.mean_solvability - m),
            "score": _score(metric, params, ct, lam, cap, p, m),
        }
        for key, v in values.items():
            cols.setdefault(key, []).append(v)
    return {key: np.stack(v, axis=1) for key, v in cols.items()}


def _best_for_type(
    params: ModelParams,
    metric: Metric,
    ct: CaseType,
    lam: np.ndarray,
    cap: np.ndarray,
    audit_q: np.ndarray | None = None,
    compiled: bool = True,
) -> np.ndarray:
    """Best thresholds of one case type; the compiled search where it applies (§3.3.8).

    ``compiled=False`` runs every bureau through the numpy search, the reference the
    compiled one is tested against.
    """
    if not compiled or metric.bonus or lam.size == 0:
        return _best_for_type_numpy(params, metric, ct, lam, cap, audit_q)
    effort = EffortRows(cap, params.effort_half, params.dispersion)
    fast = effort.ok & (lam <= MU_MAX)
    if not fast.all():
        out = np.empty(lam.size)
        slow = ~fast
        q_slow = None if audit_q is None else audit_q[slow]
        q_fast = None if audit_q is None else audit_q[fast]
        out[slow] = _best_for_type_numpy(params, metric, ct, lam[slow], cap[slow], q_slow)
        if fast.any():
            out[fast] = _best_for_type(params, metric, ct, lam[fast], cap[fast], q_fast)
        return out
    tau_f, p_f, m_f = _table(ct.beta_a, ct.beta_b, ct.dna_effect, params.screening_noise)
    q, pen = params.audit(ct)
    if audit_q is not None:
        q = audit_q
    audit = np.broadcast_to(metric.penalty_weight * q * pen, lam.shape)
    coef = _search_weights(params, metric, ct)
    return search_thresholds(
        tau_f,
        p_f,
        m_f,
        _COARSE_STEP,
        lam,
        effort.compiled_rows(),
        coef,
        audit,
    )


def _search_weights(params: ModelParams, metric: Metric, ct: CaseType) -> list[float]:
    """A case type's score weights for the compiled search (:func:`.search._score_at`)."""
    return [
        metric.solved + metric.unsolved,
        metric.opened - metric.unsolved - metric.cost_weight * params.handling_cost,
        metric.victims * ct.victims_per_solved if metric.victims else 0.0,
        later_solve_share(ct, params) if metric.victims else 0.0,
        metric.rate,
        metric.quota,
        metric.quota_penalty if metric.quota else 0.0,
    ]


def _best_for_type_numpy(
    params: ModelParams,
    metric: Metric,
    ct: CaseType,
    lam: np.ndarray,
    cap: np.ndarray,
    audit_q: np.ndarray | None = None,
) -> np.ndarray:
    """The numpy search: 129 coarse points, six nested 17-point grids, the bonus bisection."""
    tau_f, p_f, m_f = _table(ct.beta_a, ct.beta_b, ct.dna_effect, params.screening_noise)
    sel = slice(0, None, _COARSE_STEP)
    tau_c, p_c, m_c = tau_f[sel], p_f[sel], m_f[sel]
    n_c = tau_c.size
    out = np.empty(lam.size)
    rows = max(1, _CHUNK // n_c)

    def score_at(t: np.ndarray, lam_: np.ndarray, cap_: np.ndarray) -> np.ndarray:
        p, m = np.interp(t, tau_f, p_f), np.interp(t, tau_f, m_f)
        rows_q = None if q_ is None else (q_ if np.ndim(lam_) == 2 else q_[:, 0])
        return _score(metric, params, ct, lam_, cap_, p, m, effort, rows_q)

    def rate_at(t: np.ndarray, lam_: np.ndarray, cap_: np.ndarray) -> np.ndarray:
        p, m = np.interp(t, tau_f, p_f), np.interp(t, tau_f, m_f)
        h = effort(lam_ * p)
        return np.divide(m * h, p, out=np.zeros_like(p), where=p > 1e-12)

    for start in range(0, lam.size, rows):
        lam_, cap_ = lam[start : start + rows], cap[start : start + rows]
        q_ = None if audit_q is None else audit_q[start : start + rows][:, None]
        effort = EffortRows(cap_, params.effort_half, params.dispersion)
        grid = _score(metric, params, ct, lam_[:, None], cap_[:, None], p_c, m_c, effort, q_)
        i = np.argmax(grid, axis=1)
        best_t, best_s = tau_c[i], grid[np.arange(i.size), i]
        lo = tau_c[np.maximum(i - 1, 0)]
        hi = tau_c[np.minimum(i + 1, n_c - 1)]
        # nested grids inside the bracket, each over two steps of the one before,
        # on the tabulated moments: one array evaluation per stage
        for _ in range(_REFINE_STAGES):
            t = lo[:, None] + (hi - lo)[:, None] * _REFINE_UNIT
            s = score_at(t, lam_[:, None], cap_[:, None])
            j = np.argmax(s, axis=1)
            rows_ = np.arange(j.size)
            cand, cand_s = t[rows_, j], s[rows_, j]
            better = cand_s > best_s
            best_t, best_s = np.where(better, cand, best_t), np.where(better, cand_s, best_s)
            step = (hi - lo) / (_REFINE_POINTS - 1)
            lo, hi = np.maximum(cand - step, lo), np.minimum(cand + step, hi)
        if metric.bonus:
            # the score jumps where the clearance rate reaches the target: bisect for it
            lo = tau_c[np.maximum(i - 1, 0)]
            hi = tau_c[np.minimum(i + 1, n_c - 1)]
            target = metric.target
            crosses = (rate_at(lo, lam_, cap_) < target) & (rate_at(hi, lam_, cap_) >= target)
            for _ in range(_BISECT_ITERATIONS):
                mid = 0.5 * (lo + hi)
                up = rate_at(mid, lam_, cap_) >= target
                lo, hi = np.where(up, lo, mid), np.where(up, mid, hi)
            jump_s = score_at(hi, lam_, cap_)
            take = crosses & (jump_s > best_s)
            best_t = np.where(take, hi, best_t)
        out[start : start + rows] = best_t
    return out


def best_response(
    params: ModelParams,
    metric: str | Metric,
    reports: np.ndarray | float | None = None,
    capacity: np.ndarray | float | None = None,
) -> Response:
    """The intake threshold that maximises a metric's expected score, for every bureau.

    Parameters
    ----------
    params : ModelParams
    metric : str or Metric
        A preset name (see :data:`tipresearch.model.metrics.PRESETS`), ``"planner"``,
        or a Metric.
    reports, capacity : array_like, shape (B,) or (B, K), optional
        Expected reports and capacity per bureau, all types together (each type
        gets its share), or per bureau and type; default the mean bureau.

    Returns
    -------
    Response
        Thresholds (B, K) and expected outcomes at them.

    Notes
    -----
    The moments are tabulated once per case type (1,025 thresholds); a compiled
    search (:mod:`tipresearch.model.search`) finds the best coarse point (every 8th)
    and the best tabulated threshold near it by branch and bound, then the best point
    in the segments beside it (``docs/model.md``, §3.3.8). With a target bonus the
    numpy search of ``_best_for_type_numpy`` runs instead (six nested 17-point grids
    in the best bracket, and a bisection for the target's crossing), so a
    discontinuous score is handled.
    """
    metric = get_metric(metric)
    lam, cap = _per_type_arrays(params, reports, capacity)
    tau = best_thresholds(params, metric, lam, cap)
    outcomes = expected_outcomes(params, metric, tau, lam, cap, exact=False)
    return Response(metric, params.type_names, tau, outcomes)


def best_thresholds(
    params: ModelParams,
    metric: Metric,
    lam: np.ndarray,
    cap: np.ndarray,
    audit_q: np.ndarray | None = None,
) -> np.ndarray:
    """The thresholds of :func:`best_response`, without its expected outcomes.

    Parameters
    ----------
    params : ModelParams
    metric : Metric
    lam, cap : ndarray, shape (B, K)
        Expected reports and capacity per bureau and case type.
    audit_q : ndarray, shape (B,), optional
        Each row's own audit probability, for every case type (the penalty stays the
        type's): many audit regimes solved in one call. Default: the parameters'.

    Returns
    -------
    ndarray, shape (B, K)
        The same thresholds :func:`best_response` gives (same search, §3.3.8).
    """
    tau = np.empty(lam.shape)
    if audit_q is not None:
        audit_q = np.asarray(audit_q, dtype=float)
        if audit_q.shape != lam.shape[:1] or np.any((audit_q < 0) | (audit_q > 1)):
            raise ParameterError("audit_q", audit_q.shape, f"shape ({lam.shape[0]},), in [0, 1]")
    for k, ct in enumerate(params.case_types):
        tau[:, k] = _best_for_type(params, metric, ct, lam[:, k], cap[:, k], audit_q)
    if metric.bonus:
        tau = _secure_target(params, metric, tau, lam, cap)
    return tau


def best_thresholds_many(
    runs: Sequence[tuple[ModelParams, Metric]],
    lam: Sequence[np.ndarray],
    cap: Sequence[np.ndarray],
    *,
    moments: bool = False,
) -> list[np.ndarray] | list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """:func:`best_thresholds` of many runs, the compiled searches in one call.

    Every case type of every run whose bureaus all lie in the effort table is searched
    in one call of :func:`tipresearch.model.search.search_groups` per dispersion of
    the counts, so that the calls, tables of the effort factor and working arrays are
    paid once; the rest (the target bonus, bureaus outside the table) as in
    :func:`best_thresholds`. Each run's thresholds are those :func:`best_thresholds`
    gives it alone (``tests/test_search.py``).

    Parameters
    ----------
    runs : sequence of (ModelParams, Metric)
    lam, cap : sequence of ndarray, each shape (B_i, K_i)
        Each run's expected reports and capacity per bureau and case type.
    moments : bool
        Also return P(open) and E[s' 1(open)] at the thresholds, the numbers of
        :func:`tabulated_moments` (from the compiled search where it ran).

    Returns
    -------
    list of ndarray, shape (B_i, K_i), or of (thresholds, P(open), E[s' 1(open)])
    """
    if not len(runs) == len(lam) == len(cap):
        raise ParameterError("lam", len(lam), f"one array per run ({len(runs)}), as cap")
    out, p_open, mass = ([np.empty(np.shape(x)) for x in lam] for _ in range(3))
    searched: list[tuple[int, int]] = []  # the (run, type) pairs the compiled search did
    # (run, type) pairs for the compiled search, by the dispersion of their counts
    pending: dict[float, list[tuple[int, int]]] = {}
    for i, ((params, metric), lam_i) in enumerate(zip(runs, lam, strict=True)):
        if metric.bonus or np.size(lam_i) == 0 or np.shape(cap[i]) != np.shape(lam_i):
            out[i] = best_thresholds(params, metric, lam_i, cap[i])
            continue
        for k in range(len(params.case_types)):
            pending.setdefault(float(params.dispersion), []).append((i, k))
    for dispersion, pairs in pending.items():
        lam_g = [np.asarray(lam[i][:, k], dtype=float) for i, k in pairs]
        cap_g = [np.asarray(cap[i][:, k], dtype=float) for i, k in pairs]
        sizes = np.array([x.size for x in lam_g])
        starts = np.concatenate([[0], np.cumsum(sizes)])
        lam_all, cap_all = np.concatenate(lam_g), np.concatenate(cap_g)
        half = np.repeat([runs[i][0].effort_half for i, _ in pairs], sizes)
        effort = EffortRows(cap_all, half, dispersion)
        fast = np.logical_and.reduceat(effort.ok & (lam_all <= MU_MAX), starts[:-1])
        tables: dict[tuple[float, float, float, float], int] = {}
        table_of, coef, audit, group = [], [], [], []
        for (i, k), ok in zip(pairs, fast, strict=True):
            params, metric = runs[i]
            ct = params.case_types[k]
            if not ok:  # some bureau outside the table: the type alone
                out[i][:, k] = _best_for_type(params, metric, ct, lam[i][:, k], cap[i][:, k])
                continue
            key = (ct.beta_a, ct.beta_b, ct.dna_effect, params.screening_noise)
            table_of.append(tables.setdefault(key, len(tables)))
            coef.append(_search_weights(params, metric, ct))
            q, pen = params.audit(ct)
            audit.append(metric.penalty_weight * q * pen)
            group.append((i, k))
        if not group:
            continue
        take = np.repeat(fast, sizes)
        flat, base, fx, first, scale, n = effort.compiled_rows()
        stacked = [_table(*key) for key in tables]
        p_found, m_found = np.empty(int(take.sum())), np.empty(int(take.sum()))
        found = search_groups(
            tuple(np.stack([t[j] for t in stacked]) for j in range(3)),
            np.array(table_of),
            np.concatenate([[0], np.cumsum(sizes[fast])]),
            np.array(coef),
            _COARSE_STEP,
            lam_all[take],
            (flat, base[take], fx[take], first[take], scale, n),
            np.repeat(audit, sizes[fast]),
            moments=(p_found, m_found),
        )
        ends = np.cumsum(sizes[fast]).tolist()  # slices, not np.split: 2 us a group less
        for (i, k), a, b in zip(group, [0, *ends[:-1]], ends, strict=True):
            out[i][:, k], p_open[i][:, k], mass[i][:, k] = found[a:b], p_found[a:b], m_found[a:b]
        searched += group
    if not moments:
        return out
    done = set(searched)
    for i, (params, _) in enumerate(runs):  # the moments the search did not give
        for k, ct in enumerate(params.case_types):
            if (i, k) not in done and np.size(out[i]):
                p_open[i][:, k], mass[i][:, k] = tabulated_moments(
                    out[i][:, k], ct, params.screening_noise
                )
    return list(zip(out, p_open, mass, strict=True))


def _secure_target(
    params: ModelParams, metric: Metric, tau: np.ndarray, lam: np.ndarray, cap: np.ndarray
) -> np.ndarray:
    """Raise thresholds that meet the clearance target only by interpolation error.

    The bonus makes the score jump where the clearance rate reaches the target,
    and the best threshold sits at that jump; a threshold found on the tabulated
    moments may fall short of the target in the exact moments. Such thresholds
    are raised in small steps (the rate rises with the threshold) until the exact
    rate meets the target, for at most 50 steps of 1e-4.
    """
    tau = tau.copy()
    target = metric.target - 1e-12
    for _ in range(50):
        fast = expected_outcomes(params, metric, tau, lam, cap, exact=False)["clearance_rate"]
        exact = expected_outcomes(params, metric, tau, lam, cap)["clearance_rate"]
        short = (fast >= target) & ~(exact >= target)
        if not short.any():
            break
        tau = np.where(short, tau + 1e-4, tau)
    return tau


def planner_response(
    params: ModelParams,
    reports: np.ndarray | float | None = None,
    capacity: np.ndarray | float | None = None,
    planner: Metric = PLANNER,
) -> Response:
    """The social planner's thresholds on the same parameters (see :data:`PLANNER`)."""
    return best_response(params, planner, reports, capacity)
