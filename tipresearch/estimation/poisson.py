"""Poisson regression with bureau and period fixed effects, clustered by bureau.

The estimators of :mod:`tipresearch.estimation.estimators` regress counts on
regressors that are the same for every bureau of an adoption cohort in a period (the
reform, event-time and cohort-by-period indicators). For such regressors the Poisson
fixed-effects estimate can be computed from cohort x period totals, exactly:

* The score equations of the bureau-level model ``E[y_bt] = exp(a_b + g_t + x_ct b)``
  for ``b`` and ``g`` are sums over cohort-period cells of ``x_ct (sum_b y_bt - sum_b
  mu_bt)``, and those for the ``a_b`` sum within each cohort to the score equations of
  the cohort-level model ``E[Y_ct] = exp(A_c + g_t + x_ct b)`` with ``exp(A_c) = sum_b
  exp(a_b)``. The bureau-level estimate solves the cohort-level equations; the
  cohort-level problem is strictly concave; so the two estimates of ``b`` and ``g``
  are the same. statsmodels fits the cohort-level Poisson GLM.
* The bureau effects follow in closed form, ``a_b = log(sum_t y_bt / sum_t exp(g_t +
  x_ct b))`` (a bureau with no counts drops out, as it does from the likelihood).
* Errors clustered by bureau: with ``z_bt`` the period dummies and regressors,
  ``z~_bt`` their deviation from the bureau's ``mu``-weighted mean (the bureau effects
  partialled out), ``H = sum mu z~ z~'``, ``s_b = sum_t z~_bt (y_bt - mu_bt)``,
  ``V = G / (G - 1) H^-1 (sum_b s_b s_b') H^-1`` over the ``G`` bureaus with counts.
  This is the clustered sandwich of the Poisson model with bureau dummies, whose
  bureau-dummy scores vanish at the estimate (tests compare both with statsmodels'
  own fit of that model).

References
----------
Hausman, Hall & Griliches (1984) and Wooldridge (1999) on the Poisson fixed-effects
estimator and its robustness; Cameron & Miller (2015) on cluster-robust inference
(``docs/estimation.md``).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from tipresearch.errors import ParameterError

__all__ = ["FEPoissonResult", "cohorts", "fe_negative_binomial", "fe_poisson"]


@dataclass(frozen=True)
class FEPoissonResult:
    """Coefficients of the regressors, their cluster-robust covariance, and the fit."""

    params: pd.Series
    cov: pd.DataFrame
    mu: np.ndarray
    n_obs: int
    n_clusters: int
    theta: np.ndarray | None = None  # the regressors' and the period effects' coefficients

    @property
    def std_errors(self) -> pd.Series:
        """Cluster-robust standard errors."""
        return pd.Series(np.sqrt(np.diag(self.cov.to_numpy())), index=self.params.index)


def cohorts(panel: pd.DataFrame) -> np.ndarray:
    """Each row's adoption cohort: the bureau's first period with ``reform == 1`` (-1: never)."""
    first = panel.loc[panel["reform"] == 1].groupby("bureau")["period"].min()
    return panel["bureau"].map(first).fillna(-1).astype(int).to_numpy()


def fe_poisson(
    panel: pd.DataFrame, outcome: str, regressors: pd.DataFrame, cohort: np.ndarray | None = None
) -> FEPoissonResult:
    """Poisson with bureau and period fixed effects; errors clustered by bureau.

    Parameters
    ----------
    panel : pandas.DataFrame
        A checked panel (:func:`tipresearch.estimation.check_panel`): ``bureau``,
        ``period``, ``reform`` and ``outcome``, sorted by bureau and period.
    outcome : str
        The count column.
    regressors : pandas.DataFrame
        One row per panel row; each column the same for all bureaus of a cohort in a
        period.
    cohort : ndarray, optional
        Each row's cohort (:func:`cohorts` by default).

    Returns
    -------
    FEPoissonResult
        The regressors' coefficients and covariance (period effects are estimated
        but not returned).

    Raises
    ------
    ParameterError
        If a regressor varies within a cohort and period, or the model cannot be fitted.
    """
    import statsmodels.api as sm
    from statsmodels.tools.sm_exceptions import PerfectSeparationWarning

    cohort = cohorts(panel) if cohort is None else np.asarray(cohort)
    y = panel[outcome].to_numpy(dtype=float)
    period = panel["period"].to_numpy()
    names = list(regressors.columns)
    x = regressors.to_numpy(dtype=float)
    cells = pd.DataFrame({"cohort": cohort, "period": period})
    cell_id = cells.groupby(["cohort", "period"], sort=True).ngroup().to_numpy()
    n_cells = int(cell_id.max()) + 1
    if x.shape[1]:
        grouped = pd.DataFrame(x).groupby(cell_id)
        spread = (grouped.max() - grouped.min()).to_numpy()
        if (spread > 1e-12).any():
            column = names[int(np.flatnonzero((spread > 1e-12).any(axis=0))[0])]
            raise ParameterError(
                "regressors", column, "regressors that are the same within a cohort and period"
            )
    # cohort x period totals and the cells' regressors
    totals = np.bincount(cell_id, weights=y, minlength=n_cells)
    first_row = np.zeros(n_cells, dtype=int)
    first_row[cell_id[::-1]] = np.arange(len(cell_id))[::-1]
    cell_cohort, cell_period, cell_x = cohort[first_row], period[first_row], x[first_row]
    periods = np.unique(period)
    groups = np.unique(cohort)
    p_dummies = (cell_period[:, None] == periods[None, 1:]).astype(float)
    c_dummies = (cell_cohort[:, None] == groups[None, :]).astype(float)
    design = np.hstack([cell_x, p_dummies, c_dummies])
    try:
        with warnings.catch_warnings():
            # a saturated cohort-level model (few periods, one term per cell) fits the
            # totals exactly: statsmodels then warns of perfect prediction and a zero
            # residual degree of freedom, neither of which the bureau-level errors use
            warnings.simplefilter("ignore", RuntimeWarning)
            warnings.simplefilter("ignore", PerfectSeparationWarning)
            fit = sm.GLM(totals, design, family=sm.families.Poisson()).fit(maxiter=200, tol=1e-10)
    except (ValueError, np.linalg.LinAlgError) as exc:
        raise ParameterError(
            "panel", outcome, f"a panel the Poisson model can fit ({exc})"
        ) from None
    k, n_p = x.shape[1], len(periods) - 1
    theta = np.asarray(fit.params)[: k + n_p]
    # bureau level: the period dummies and regressors, the bureau effects in closed form
    z = _period_design(x, period, periods)
    eta = z @ theta
    bureau_codes, bureau = np.unique(panel["bureau"].to_numpy(), return_inverse=True)
    n_b = len(bureau_codes)
    y_sum = np.bincount(bureau, weights=y, minlength=n_b)
    e_sum = np.bincount(bureau, weights=np.exp(eta), minlength=n_b)
    keep_b = y_sum > 0
    with np.errstate(divide="ignore"):
        alpha = np.where(keep_b, np.log(np.where(keep_b, y_sum, 1.0) / e_sum), -np.inf)
    mu = np.exp(alpha[bureau] + eta)
    use = keep_b[bureau]
    cov, g = _clustered(z[use], mu[use], y[use] - mu[use], bureau[use], n_b, names)
    return FEPoissonResult(
        params=pd.Series(theta[:k], index=names),
        cov=pd.DataFrame(cov[:k, :k], index=names, columns=names),
        mu=mu,
        n_obs=int(use.sum()),
        n_clusters=g,
        theta=theta,
    )


def _period_design(x: np.ndarray, period: np.ndarray, periods: np.ndarray) -> np.ndarray:
    """The regressors and the period dummies (the first period left out), row by row."""
    k, n_p = x.shape[1], len(periods) - 1
    p_index = np.searchsorted(periods, period)
    z = np.zeros((len(period), k + n_p))
    z[:, :k] = x
    rows = np.flatnonzero(p_index > 0)
    z[rows, k + p_index[rows] - 1] = 1.0
    return z


def _partialled(z: np.ndarray, w: np.ndarray, bureau: np.ndarray, n_b: int) -> np.ndarray:
    """``z`` less its ``w``-weighted mean within each bureau (the bureau effects partialled out)."""
    total = np.bincount(bureau, weights=w, minlength=n_b)
    means = (
        np.vstack(
            [np.bincount(bureau, weights=w * z[:, j], minlength=n_b) for j in range(z.shape[1])]
        ).T
        / np.where(total > 0, total, 1.0)[:, None]
    )
    return z - means[bureau]


def _clustered(
    z: np.ndarray, w: np.ndarray, r: np.ndarray, bureau: np.ndarray, n_b: int, names: list[str]
) -> tuple[np.ndarray, int]:
    """The bureau-clustered sandwich ``G/(G-1) H^-1 (sum_b s_b s_b') H^-1`` with Hessian
    weights ``w`` and score residuals ``r`` (Poisson: ``mu`` and ``y - mu``), the bureau
    effects partialled out; and ``G``, the bureaus."""
    zt = _partialled(z, w, bureau, n_b)
    hessian = (zt * w[:, None]).T @ zt
    scores = np.vstack(
        [np.bincount(bureau, weights=zt[:, j] * r, minlength=n_b) for j in range(zt.shape[1])]
    ).T
    present = np.bincount(bureau, minlength=n_b) > 0
    scores = scores[present]
    g = int(present.sum())
    try:
        bread = np.linalg.inv(hessian)
    except np.linalg.LinAlgError:
        raise ParameterError("regressors", names, "regressors that are not collinear") from None
    return bread @ (scores.T @ scores) @ bread * (g / (g - 1) if g > 1 else np.nan), g


def fe_negative_binomial(
    panel: pd.DataFrame,
    outcome: str,
    regressors: pd.DataFrame,
    alpha: float,
    cohort: np.ndarray | None = None,
    *,
    start: FEPoissonResult | None = None,
    tol: float = 1e-10,
    maxiter: int = 100,
) -> FEPoissonResult:
    """Negative binomial (NB2, dispersion ``alpha`` fixed) with bureau and period effects.

    The maximum-likelihood estimate of the model with bureau dummies, without the
    dummies: from the Poisson estimate (:func:`fe_poisson`), each bureau's effect solves
    its score equation ``sum_t (y - mu) / (1 + alpha mu) = 0`` (Newton, per bureau, at
    once), and the other coefficients take a scoring step with the bureau effects
    partialled out (weights ``mu / (1 + alpha mu)``), until the step is below ``tol``.
    Errors clustered by bureau as in :func:`fe_poisson`, with NB2's score residuals
    ``(y - mu) / (1 + alpha mu)`` and its observed information (a test compares both
    with statsmodels' NB2 GLM with bureau dummies).

    ``start`` is :func:`fe_poisson`'s fit of the same model, when already made.

    Raises
    ------
    ParameterError
        For ``alpha`` not > 0, or a fit that does not converge in ``maxiter`` steps.
    """
    if not alpha > 0 or not np.isfinite(alpha):
        raise ParameterError("alpha", alpha, "a dispersion > 0")
    if start is None:
        start = fe_poisson(panel, outcome, regressors, cohort)
    names = list(regressors.columns)
    y = panel[outcome].to_numpy(dtype=float)
    period = panel["period"].to_numpy()
    z = _period_design(regressors.to_numpy(dtype=float), period, np.unique(period))
    bureau_codes, bureau = np.unique(panel["bureau"].to_numpy(), return_inverse=True)
    n_b = len(bureau_codes)
    keep = (np.bincount(bureau, weights=y, minlength=n_b) > 0)[bureau]
    z, y, bureau = z[keep], y[keep], bureau[keep]
    theta = start.theta.copy()
    eta = z @ theta
    effect = np.zeros(n_b)
    effect_rows = np.log(start.mu[keep]) - eta
    np.put(effect, bureau, effect_rows)  # the Poisson bureau effects as a start

    def bureau_effects(eta: np.ndarray) -> np.ndarray:
        for _ in range(100):
            mu = np.exp(effect[bureau] + eta)
            f = np.bincount(bureau, weights=(y - mu) / (1 + alpha * mu), minlength=n_b)
            slope = np.bincount(
                bureau, weights=mu * (1 + alpha * y) / (1 + alpha * mu) ** 2, minlength=n_b
            )
            step = np.where(slope > 0, f / np.where(slope > 0, slope, 1.0), 0.0)
            effect[:] += step
            if np.abs(step).max() < 1e-12:
                break
        return np.exp(effect[bureau] + eta)

    for _ in range(int(maxiter)):
        mu = bureau_effects(eta)
        w, r = mu / (1 + alpha * mu), (y - mu) / (1 + alpha * mu)
        zt = _partialled(z, w, bureau, n_b)
        delta = np.linalg.solve((zt * w[:, None]).T @ zt, zt.T @ r)
        theta += delta
        eta = z @ theta
        if np.abs(delta).max() < tol:
            break
    else:
        raise ParameterError("maxiter", maxiter, "enough steps for the fit to converge")
    mu = bureau_effects(eta)
    # the observed information (NB2's log link is not its canonical link, so it differs
    # from the expected one used for the steps): weights mu (1 + alpha y) / (1 + alpha mu)^2
    w_observed = mu * (1 + alpha * y) / (1 + alpha * mu) ** 2
    cov, g = _clustered(z, w_observed, (y - mu) / (1 + alpha * mu), bureau, n_b, names)
    k = len(names)
    return FEPoissonResult(
        params=pd.Series(theta[:k], index=names),
        cov=pd.DataFrame(cov[:k, :k], index=names, columns=names),
        mu=mu,
        n_obs=len(y),
        n_clusters=g,
        theta=theta,
    )
