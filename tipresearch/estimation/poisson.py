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

__all__ = ["FEPoissonResult", "cohorts", "fe_poisson"]


@dataclass(frozen=True)
class FEPoissonResult:
    """Coefficients of the regressors, their cluster-robust covariance, and the fit."""

    params: pd.Series
    cov: pd.DataFrame
    mu: np.ndarray
    n_obs: int
    n_clusters: int

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
    p_index = np.searchsorted(periods, period)
    z = np.zeros((len(y), k + n_p))
    z[:, :k] = x
    rows = np.flatnonzero(p_index > 0)
    z[rows, k + p_index[rows] - 1] = 1.0
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
    zb, mub, yb, bb = z[use], mu[use], y[use], bureau[use]
    weight_sum = np.bincount(bb, weights=mub, minlength=n_b)
    means = (
        np.vstack(
            [np.bincount(bb, weights=mub * zb[:, j], minlength=n_b) for j in range(zb.shape[1])]
        ).T
        / np.where(weight_sum > 0, weight_sum, 1.0)[:, None]
    )
    zt = zb - means[bb]
    hessian = (zt * mub[:, None]).T @ zt
    scores = np.vstack(
        [np.bincount(bb, weights=zt[:, j] * (yb - mub), minlength=n_b) for j in range(zt.shape[1])]
    ).T[keep_b]
    g = int(keep_b.sum())
    try:
        bread = np.linalg.inv(hessian)
    except np.linalg.LinAlgError:
        raise ParameterError("regressors", names, "regressors that are not collinear") from None
    cov = bread @ (scores.T @ scores) @ bread * (g / (g - 1) if g > 1 else np.nan)
    return FEPoissonResult(
        params=pd.Series(theta[:k], index=names),
        cov=pd.DataFrame(cov[:k, :k], index=names, columns=names),
        mu=mu,
        n_obs=int(use.sum()),
        n_clusters=g,
    )
