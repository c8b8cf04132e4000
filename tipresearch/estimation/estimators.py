"""Estimators of a rating reform's effect on recorded cases, with statsmodels.

Each estimator takes a panel (bureau, period, reform 0/1, counts; see
:mod:`tipresearch.estimation.panels`), checks it (:func:`check_panel`) and returns a
tidy frame of :data:`ESTIMATE_COLUMNS`: the estimate in log points (a proportional
effect: ``exp(estimate) - 1`` is the change in the count), its standard error, the 95%
interval, the number of observations, and the *estimand* it aims at
(:func:`tipresearch.estimation.true_effects` computes each from the model's truth).

========================  ==============================================  ==============
estimator                 what it does                                    estimand
========================  ==============================================  ==============
naive before/after        adopters only, after against before (Poisson,   ``att``
                          no fixed effects)
cross-section (OLS)       last 12 months: log mean count of adopters      ``att_final_year``
                          against non-adopters, heteroskedasticity-robust
two-way FE Poisson        bureau and period effects, one reform term      ``att``
negative binomial         the same with NB2 counts (dispersion from the   ``att``
                          Poisson fit's residuals)
event study               leads and lags of adoption (Poisson, two-way    ``event k``
                          effects), the period before adoption omitted
not-yet-treated           one term per adoption cohort and period         ``att``
(extended two-way FE)     (Wooldridge 2023): only bureaus not yet treated
                          and never treated identify the period effects
segmented regression      national monthly series, log counts on trend,   ``national``
                          level and slope change, Newey-West errors
survey (dark figure)      two-way FE Poisson on the survey's counts       ``att`` of
                                                                          incidence
========================  ==============================================  ==============

Errors are clustered by bureau except for the cross-section (HC1) and the national
series (Newey-West). Under staggered adoption with effects that grow after adoption,
the single reform term of two-way fixed effects compares later adopters with earlier
ones whose effect is still growing and is biased (Goodman-Bacon 2021; de Chaisemartin &
D'Haultfoeuille 2020); the not-yet-treated estimator avoids those comparisons.

References
----------
Wooldridge (2023), Simple approaches to nonlinear difference-in-differences with panel
data, Econometrics Journal 26(3); Goodman-Bacon (2021), J. Econometrics 225(2);
Callaway & Sant'Anna (2021), J. Econometrics 225(2); Cameron & Trivedi (1990),
J. Econometrics 46(3) (the dispersion regression); Newey & West (1987),
Econometrica 55(3) (``docs/estimation.md``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from tipresearch.errors import ParameterError

from .panels import check_panel
from .poisson import FEPoissonResult, cohorts, fe_negative_binomial, fe_poisson

__all__ = [
    "EVENT_TERM",
    "event_times",
    "without_event_terms",
    "ESTIMATE_COLUMNS",
    "ESTIMATORS",
    "cross_sectional_ols",
    "dark_figure",
    "estimate_all",
    "event_study",
    "naive_before_after",
    "national_series",
    "negative_binomial",
    "not_yet_treated",
    "overdispersion",
    "segmented_regression",
    "twfe_poisson",
]

#: Columns of every estimator's frame.
ESTIMATE_COLUMNS = (
    "estimator",
    "outcome",
    "term",
    "estimand",
    "estimate",
    "std_error",
    "ci_low",
    "ci_high",
    "n",
    "note",
)
_Z = 1.959963984540054  # the normal's 97.5% point
#: A term (or estimand) of one month of the event study: ``event -6`` ... ``event 12``.
EVENT_TERM = r"^event -?\d+$"


def without_event_terms(frame: pd.DataFrame, column: str = "term") -> pd.DataFrame:
    """The rows of an estimates or summary frame but the event study's month terms,
    renumbered from 0 (the headline: one row per estimator and summary term)."""
    return frame[~frame[column].astype(str).str.match(EVENT_TERM)].reset_index(drop=True)


def _row(estimator, outcome, term, estimand, estimate, se, n, note="") -> dict:
    return {
        "estimator": estimator,
        "outcome": outcome,
        "term": term,
        "estimand": estimand,
        "estimate": float(estimate),
        "std_error": float(se),
        "ci_low": float(estimate - _Z * se),
        "ci_high": float(estimate + _Z * se),
        "n": int(n),
        "note": note,
    }


def _frame(rows: list[dict]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=list(ESTIMATE_COLUMNS))


def naive_before_after(panel: pd.DataFrame, outcome: str = "recorded") -> pd.DataFrame:
    """Adopters' counts after adoption against before, with nothing else controlled.

    A Poisson regression of the count on a constant and the reform indicator, over the
    bureaus that adopt; errors clustered by bureau. What a reader of a before/after
    chart does: any change over time, and any difference between early and late
    adopters, is taken for the reform's effect.
    """
    import statsmodels.api as sm

    panel = check_panel(panel, outcome)
    adopters = panel[panel.groupby("bureau")["reform"].transform("max") == 1]
    if adopters.empty or adopters["reform"].min() == 1:
        raise ParameterError("panel", "no adopter with months before adoption", "some")
    x = sm.add_constant(adopters["reform"].to_numpy(dtype=float))
    fit = sm.GLM(adopters[outcome].to_numpy(dtype=float), x, family=sm.families.Poisson()).fit(
        cov_type="cluster", cov_kwds={"groups": adopters["bureau"].to_numpy()}
    )
    return _frame(
        [
            _row(
                "naive before/after",
                outcome,
                "reform",
                "att",
                fit.params[1],
                fit.bse[1],
                len(adopters),
            )
        ]
    )


def cross_sectional_ols(
    panel: pd.DataFrame, outcome: str = "recorded", months: int = 12
) -> pd.DataFrame:
    """Adopters against non-adopters in the last ``months`` months, by OLS.

    Each bureau's mean monthly count over the window, ``log(mean + 0.5)``, regressed on
    whether it had adopted before the window (bureaus adopting within it are left
    out); heteroskedasticity-robust (HC1) errors. Adopters that differ from the others
    in more than the reform (more trafficking, say) bias it.
    """
    import statsmodels.api as sm

    panel = check_panel(panel, outcome)
    last = int(panel["period"].max())
    window = panel[panel["period"] > last - months]
    start = window.groupby("bureau")["reform"].min()
    end = window.groupby("bureau")["reform"].max()
    keep = start.index[(start == end)]
    means = window[window["bureau"].isin(keep)].groupby("bureau")[outcome].mean()
    treated = start.loc[means.index].to_numpy(dtype=float)
    if treated.min() == treated.max():
        raise ParameterError("panel", "no contrast in the last months", "adopters and others")
    x = sm.add_constant(treated)
    fit = sm.OLS(np.log(means.to_numpy() + 0.5), x).fit(cov_type="HC1")
    return _frame(
        [
            _row(
                "cross-section (OLS)",
                outcome,
                "reform",
                "att_final_year",
                fit.params[1],
                fit.bse[1],
                len(means),
                f"last {months} months, {int(treated.sum())} adopters",
            )
        ]
    )


def twfe_poisson(panel: pd.DataFrame, outcome: str = "recorded") -> pd.DataFrame:
    """Two-way fixed-effects Poisson: bureau and period effects and one reform term.

    Errors clustered by bureau (:func:`tipresearch.estimation.poisson.fe_poisson`).
    """
    panel = check_panel(panel, outcome)
    fit = fe_poisson(panel, outcome, panel[["reform"]])
    return _frame(
        [
            _row(
                "two-way FE Poisson",
                outcome,
                "reform",
                "att",
                fit.params["reform"],
                fit.std_errors["reform"],
                fit.n_obs,
                f"{fit.n_clusters} bureaus",
            )
        ]
    )


def overdispersion(
    panel: pd.DataFrame, outcome: str = "recorded", fit: FEPoissonResult | None = None
) -> tuple[float, float]:
    """The NB2 dispersion ``alpha`` and its t statistic, from the two-way FE Poisson fit.

    The auxiliary regression of Cameron & Trivedi (1990): ``((y - mu)^2 - y) / mu``
    on ``mu`` without a constant; ``alpha > 0`` with a large t means over-dispersion.
    ``fit`` is the Poisson fit of ``panel`` with the reform term, when already made.
    """
    import statsmodels.api as sm

    panel = check_panel(panel, outcome)
    fit = fe_poisson(panel, outcome, panel[["reform"]]) if fit is None else fit
    y = panel[outcome].to_numpy(dtype=float)
    mu = fit.mu
    ok = np.isfinite(mu) & (mu > 0)
    aux = sm.OLS(((y[ok] - mu[ok]) ** 2 - y[ok]) / mu[ok], mu[ok]).fit()
    return float(aux.params[0]), float(aux.tvalues[0])


def negative_binomial(panel: pd.DataFrame, outcome: str = "recorded") -> pd.DataFrame:
    """Negative binomial (NB2) with bureau and period effects; errors clustered by bureau.

    The dispersion is fixed at :func:`overdispersion`'s estimate (at least 1e-8), and the
    model is the NB2 GLM with bureau and period dummies, fitted without the bureau
    dummies (:func:`tipresearch.estimation.poisson.fe_negative_binomial`; the same
    numbers as statsmodels' fit with them, tested).
    """
    panel = check_panel(panel, outcome)
    poisson = fe_poisson(panel, outcome, panel[["reform"]])
    alpha, t_stat = overdispersion(panel, outcome, poisson)
    fit = fe_negative_binomial(panel, outcome, panel[["reform"]], max(alpha, 1e-8), start=poisson)
    return _frame(
        [
            _row(
                "negative binomial",
                outcome,
                "reform",
                "att",
                fit.params["reform"],
                fit.std_errors["reform"],
                fit.n_obs,
                f"alpha {alpha:.3f} (t {t_stat:.1f})",
            )
        ]
    )


def event_times(panel: pd.DataFrame, leads: int, lags: int) -> np.ndarray:
    """Months since adoption, binned at ``-leads`` and ``lags``; a large negative for never."""
    cohort = cohorts(panel)
    rel = panel["period"].to_numpy() - cohort
    rel = np.clip(rel, -leads, lags)
    return np.where(cohort >= 0, rel, -10_000)


def event_study(
    panel: pd.DataFrame, outcome: str = "recorded", leads: int = 6, lags: int = 12
) -> pd.DataFrame:
    """Leads and lags of adoption in a two-way FE Poisson; the month before omitted.

    One term per month from ``-leads`` to ``lags`` relative to adoption (the ends
    binned: ``-leads`` holds every earlier month, ``lags`` every later one), estimand
    ``event k``; and their post-adoption mean (terms 0 to ``lags``, equal weights),
    estimand ``event average``. With random adoption the leads should be near zero.
    """
    panel = check_panel(panel, outcome)
    for name, value in (("leads", leads), ("lags", lags)):
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
            raise ParameterError(name, value, "a whole number >= 1")
    rel = event_times(panel, leads, lags)
    terms = [k for k in range(-leads, lags + 1) if k != -1]
    x = pd.DataFrame({f"event {k}": (rel == k).astype(float) for k in terms})
    x = x.loc[:, x.sum() > 0]
    fit = fe_poisson(panel, outcome, x)
    se = fit.std_errors
    rows = [
        _row("event study", outcome, name, name, fit.params[name], se[name], fit.n_obs)
        for name in x.columns
    ]
    post = [n for n in x.columns if int(n.split()[1]) >= 0]
    w = np.full(len(post), 1.0 / len(post))
    cov = fit.cov.loc[post, post].to_numpy()
    rows.append(
        _row(
            "event study",
            outcome,
            "post average",
            "event average",
            float(w @ fit.params[post].to_numpy()),
            float(np.sqrt(w @ cov @ w)),
            fit.n_obs,
            f"mean of months 0 to {lags}",
        )
    )
    return _frame(rows)


def not_yet_treated(panel: pd.DataFrame, outcome: str = "recorded") -> pd.DataFrame:
    """The reform's effect from comparisons with bureaus not yet (or never) treated.

    The extended two-way fixed-effects Poisson of Wooldridge (2023): one term for each
    adoption cohort in each period from its adoption on, so that only untreated
    bureau-months identify the bureau and period effects. The cohort-period effects
    are averaged with weights proportional to the cell's fitted count without the
    reform (the weights taken as fixed for the error), the estimand ``att``.
    """
    panel = check_panel(panel, outcome)
    cohort = cohorts(panel)
    period = panel["period"].to_numpy()
    treated_cells = sorted(
        {(int(c), int(t)) for c, t in zip(cohort, period, strict=True) if c >= 0 and t >= c}
    )
    if not treated_cells:
        raise ParameterError("panel", "no treated bureau-month", "a panel with adopters")
    names = [f"cohort {c} period {t}" for c, t in treated_cells]
    cell_index = {cell: j for j, cell in enumerate(treated_cells)}
    x = np.zeros((len(panel), len(names)))
    rows = [i for i in range(len(panel)) if cohort[i] >= 0 and period[i] >= cohort[i]]
    cols = [cell_index[(int(cohort[i]), int(period[i]))] for i in rows]
    x[rows, cols] = 1.0
    fit = fe_poisson(panel, outcome, pd.DataFrame(x, columns=names), cohort)
    tau = fit.params.to_numpy()
    untreated_mu = fit.mu * np.exp(-(x @ tau))
    weights = np.bincount(cols, weights=untreated_mu[rows], minlength=len(names))
    weights = weights / weights.sum()
    estimate = float(weights @ tau)
    se = float(np.sqrt(weights @ fit.cov.to_numpy() @ weights))
    return _frame(
        [
            _row(
                "not-yet-treated",
                outcome,
                "reform",
                "att",
                estimate,
                se,
                fit.n_obs,
                f"{len(names)} cohort-period effects",
            )
        ]
    )


def national_series(panel: pd.DataFrame, outcome: str = "recorded") -> pd.DataFrame:
    """Monthly national totals of ``outcome``: ``period``, ``count``, ``share_adopted``."""
    panel = check_panel(panel, outcome)
    out = panel.groupby("period").agg(count=(outcome, "sum"), share_adopted=("reform", "mean"))
    return out.reset_index()


def segmented_regression(
    series: pd.DataFrame,
    interruption: float,
    *,
    time: str = "period",
    count: str = "count",
    hac_lags: int | None = None,
    outcome: str = "recorded",
) -> pd.DataFrame:
    """Interrupted time series: log counts on a trend, a level change and a slope change.

    ``log y_t = b0 + b1 t + b2 post_t + b3 post_t (t - t0) + e_t``, with ``post_t = 1``
    from ``interruption`` (``t0``) on, by OLS with Newey-West errors (``hac_lags``;
    by default ``floor(4 (n / 100)^(2/9))``, at least 1). Returns the level change, the
    slope change and their average effect over the post-interruption times
    (``b2 + b3 mean(t - t0)``, estimand ``national``).

    Raises
    ------
    ParameterError
        For a series with a count <= 0, or too few times before or after the
        interruption to estimate a trend and its change (two on each side; four
        parameters need at least five times).
    """
    import statsmodels.api as sm

    if not isinstance(series, pd.DataFrame) or {time, count} - set(series.columns):
        raise ParameterError("series", type(series).__name__, f"a frame with {time} and {count}")
    data = series.sort_values(time)
    t = data[time].to_numpy(dtype=float)
    y = data[count].to_numpy(dtype=float)
    if (y <= 0).any() or not np.isfinite(y).all():
        raise ParameterError(f"series.{count}", y[~(y > 0)][:1].tolist(), "counts > 0")
    post = (t >= interruption).astype(float)
    n_pre, n_post = int((post == 0).sum()), int(post.sum())
    if n_pre < 2 or n_post < 2 or len(t) < 5:
        raise ParameterError(
            "series",
            f"{n_pre} before and {n_post} from {interruption} on",
            "at least 2 times before the interruption, 2 from it on and 5 in all",
        )
    lags = hac_lags if hac_lags is not None else max(1, int(4 * (len(t) / 100) ** (2 / 9)))
    x = np.column_stack([np.ones_like(t), t, post, post * (t - interruption)])
    fit = sm.OLS(np.log(y), x).fit(cov_type="HAC", cov_kwds={"maxlags": lags})
    mean_since = float((t[post == 1] - interruption).mean())
    w = np.array([0.0, 0.0, 1.0, mean_since])
    avg = float(w @ fit.params)
    avg_se = float(np.sqrt(w @ fit.cov_params() @ w))
    est = "segmented regression"
    note = f"Newey-West, {lags} lags; {n_pre} times before, {n_post} after"
    return _frame(
        [
            _row(est, outcome, "level change", "", fit.params[2], fit.bse[2], len(t), note),
            _row(est, outcome, "slope change", "", fit.params[3], fit.bse[3], len(t), note),
            _row(est, outcome, "post average", "national", avg, avg_se, len(t), note),
        ]
    )


def dark_figure(panel: pd.DataFrame, survey_rate: float) -> pd.DataFrame:
    """What the survey subset says: the reform's effect on incidence, and the dark figure.

    A two-way FE Poisson of the survey's counts on the reform, over the surveyed
    bureaus (estimand ``att`` of incidence); and, among them, the share of incidents
    recorded (``recorded / (survey / survey_rate)``) before and after adoption,
    reported in ``note``.
    """
    panel = check_panel(panel, "recorded", require=("survey", "surveyed"))
    if not 0 < survey_rate <= 1:
        raise ParameterError("survey_rate", survey_rate, "a share in (0, 1]")
    sub = panel[panel["surveyed"].astype(bool)].copy()
    if sub.empty:
        raise ParameterError("panel.surveyed", "no surveyed bureau", "some surveyed bureaus")
    sub["survey"] = sub["survey"].astype(float)
    check_panel(sub, "survey")
    fit = fe_poisson(sub, "survey", sub[["reform"]])
    incidents = sub.groupby("reform")["survey"].sum() / survey_rate
    recorded = sub.groupby("reform")["recorded"].sum()
    share = (recorded / incidents).reindex([0, 1])
    note = (
        f"{sub['bureau'].nunique()} surveyed bureaus; share of incidents recorded "
        f"{share[0]:.1%} before, {share[1]:.1%} after adoption"
    )
    return _frame(
        [
            _row(
                "survey (dark figure)",
                "incidence",
                "reform",
                "att",
                fit.params["reform"],
                fit.std_errors["reform"],
                fit.n_obs,
                note,
            )
        ]
    )


#: The estimators :func:`estimate_all` runs, in order, by name.
ESTIMATORS = (
    "naive before/after",
    "cross-section (OLS)",
    "two-way FE Poisson",
    "negative binomial",
    "event study",
    "not-yet-treated",
    "segmented regression",
    "survey (dark figure)",
)


def estimate_all(
    panel: pd.DataFrame,
    survey_rate: float,
    *,
    leads: int = 6,
    lags: int = 12,
    estimators: tuple[str, ...] | None = None,
) -> pd.DataFrame:
    """The estimators of :data:`ESTIMATORS` (all by default) on one panel, one frame.

    Parameters
    ----------
    panel : pandas.DataFrame
        Recorded cases (and, for the survey estimator, ``survey`` and ``surveyed``).
    survey_rate : float
        The survey's sampling share (:func:`dark_figure`).
    leads, lags : int
        The event study's bins.
    estimators : tuple of str, optional
        Names from :data:`ESTIMATORS`, run in that table's order.

    The national series' interruption is the first adoption period.
    """
    chosen = ESTIMATORS if estimators is None else tuple(estimators)
    unknown = [e for e in chosen if e not in ESTIMATORS]
    if unknown or not chosen:
        raise ParameterError("estimators", list(chosen), f"names from {list(ESTIMATORS)}")
    panel = check_panel(panel, "recorded")
    first = int(panel.loc[panel["reform"] == 1, "period"].min())
    run = {
        "naive before/after": lambda: naive_before_after(panel),
        "cross-section (OLS)": lambda: cross_sectional_ols(panel),
        "two-way FE Poisson": lambda: twfe_poisson(panel),
        "negative binomial": lambda: negative_binomial(panel),
        "event study": lambda: event_study(panel, leads=leads, lags=lags),
        "not-yet-treated": lambda: not_yet_treated(panel),
        "segmented regression": lambda: segmented_regression(national_series(panel), first),
        "survey (dark figure)": lambda: dark_figure(panel, survey_rate),
    }
    return pd.concat([run[name]() for name in ESTIMATORS if name in chosen], ignore_index=True)
