"""Fit the China calendar to published counts of trafficking cases.

Simulated method of moments: a small set of parameters (:data:`FITTED`) is chosen
to bring the model's moments close to published figures (:func:`china_targets`)
in weighted least squares on log ratios (relative errors that treat a model
twice too high like one half too low),

    min_theta  sum_i w_i log(m_i(theta) / d_i)^2,

with ``m_i`` the mean of the moment over a fixed set of simulation seeds (common
random numbers: every evaluation of the objective uses the same seeds, so the
objective changes only through ``theta``), and weights by source: 1 for a
primary source, 1/4 for a secondary one, the cable (``seed``) and the one
``assumption`` (clearance close to 100% in 2008; standard errors twice as large). The optimiser
is :func:`scipy.optimize.least_squares` (trust region reflective) in unit
coordinates of each parameter's bounds (log scale where stated), with finite
differences wide enough to step over the jumps that integer draws put in a
simulated objective.

Uncertainty is a parametric bootstrap linearised at the estimate (a one-step
bootstrap): each replication draws new published counts (Poisson around the
figures) and new simulation seeds, and takes one damped Gauss-Newton step from
the estimate with the Jacobian at the estimate, instead of a full re-fit
(Davidson & MacKinnon 1999; Andrews 2002).

The fitted parameters and their bounds are in :mod:`tipresearch.fit.parameters`, the
targets and the model's moments in :mod:`tipresearch.fit.targets`, a finished fit and
its files in :mod:`tipresearch.fit.result`, and checks of a finished fit against
published figures in :mod:`tipresearch.fit.checks`.

References
----------
McFadden, D. (1989). A method of simulated moments for estimation of discrete
response models without numerical integration. Econometrica 57(5), 995-1026.
Andrews, D. W. K. (2002). Higher-order improvements of a computationally
attractive k-step bootstrap for extremum estimators. Econometrica 70(1), 119-162.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import replace

import numpy as np
from scipy.optimize import least_squares
from scipy.stats import qmc

from tipresearch.errors import ParameterError
from tipresearch.reforms import ChinaModel

from .parameters import FITTED, FitParameter, base_changes, current_values, expand
from .result import FitResult, residuals
from .targets import Target, china_targets, model_moments

__all__ = ["bootstrap", "fit", "synthetic_targets"]


class _Objective:
    """Weighted residuals as a function of unit coordinates, with a cache and a counter."""

    def __init__(
        self,
        base: ChinaModel,
        parameters: Sequence[FitParameter],
        targets: Sequence[Target],
        seeds: Sequence[int],
        progress: Callable[[str], None] | None,
    ) -> None:
        self.base, self.parameters, self.targets = base, tuple(parameters), tuple(targets)
        self.seeds = tuple(seeds)
        self.progress = progress
        self.cache: dict[tuple[float, ...], np.ndarray] = {}
        self.count = 0
        self.best: tuple[float, np.ndarray | None] = (math.inf, None)
        self.executor: Executor | None = None  # simulates the seeds in parallel if set

    def values(self, u: np.ndarray) -> dict[str, float]:
        return {p.key: p.to_value(x) for p, x in zip(self.parameters, u, strict=True)}

    def model(self, u: np.ndarray) -> ChinaModel:
        return self.base.updated(expand(self.parameters, self.values(u)))

    def moments(self, u: np.ndarray, seeds: Sequence[int] | None = None) -> np.ndarray:
        seeds = self.seeds if seeds is None else seeds
        return model_moments(self.model(u), self.targets, seeds, self.executor)

    def __call__(self, u: np.ndarray) -> np.ndarray:
        key = tuple(np.round(np.asarray(u, dtype=float), 12))
        if key in self.cache:
            return self.cache[key]
        r = residuals(self.targets, self.moments(np.asarray(u)))
        self.cache[key] = r
        self.count += 1
        obj = float(r @ r)
        if obj < self.best[0]:
            self.best = (obj, np.asarray(u, dtype=float).copy())
        if self.progress is not None:
            self.progress(f"evaluation {self.count}: objective {obj:.5f}")
        return r


@contextmanager
def _seed_pool(workers: int, seeds: int) -> Iterator[Executor | None]:
    """Processes that simulate an evaluation's seeds at once (None: in this process).

    Raises
    ------
    ParameterError
        For ``workers`` that is not a whole number >= 1.
    """
    if isinstance(workers, bool) or not isinstance(workers, int | np.integer) or workers < 1:
        raise ParameterError("workers", workers, "a whole number >= 1")
    if workers == 1 or seeds < 2:
        yield None
        return
    with ProcessPoolExecutor(max_workers=min(int(workers), seeds)) as pool:
        yield pool


def fit(
    base: ChinaModel | None = None,
    targets: Sequence[Target] | None = None,
    parameters: Sequence[FitParameter] = FITTED,
    *,
    start: Mapping[str, float] | None = None,
    seeds: Sequence[int] = (0, 1),
    screen: int = 0,
    screen_seed: int = 0,
    starts: int = 1,
    generations: int = 0,
    max_evaluations: int = 200,
    diff_step: float = 0.03,
    progress: Callable[[str], None] | None = None,
    jacobian: bool = True,
    workers: int = 1,
) -> FitResult:
    """Fit parameters of the China calendar by simulated method of moments.

    Parameters
    ----------
    base : ChinaModel, optional
        The model with every value not fitted (defaults if None).
    targets : sequence of Target, optional
        The moments (:func:`china_targets` if None).
    parameters : sequence of FitParameter
        What is fitted, with bounds (:data:`FITTED`).
    start : mapping, optional
        Starting values by key (default: the base model's values, clipped to the bounds).
    seeds : sequence of int
        Simulation seeds averaged in every evaluation (common random numbers).
    screen : int
        Points of a scrambled Sobol' design over the bounds evaluated before the
        local search, which starts from the best of them and the start values (0:
        start values only). A simulated objective has local minima; a global
        screen avoids the worst of them.
    screen_seed : int
        Seed of the Sobol' scrambling.
    starts : int
        Local searches, from the ``starts`` lowest of the start values and the
        screen's points (1: from the lowest only). The search is local and the
        objective has separate basins: started in one, it stays there (recovery
        tests in ``docs/fit.md``), so several starts are needed to find the lowest.
        Must be at most ``screen + 1``.
    generations : int
        Generations of differential evolution (Storn and Price 1997, scipy's
        ``differential_evolution``, seeded by ``screen_seed``) run on the screen before
        the local searches: the start values and the screen's points are its first
        population (so ``screen >= 4``), each generation evaluates one trial point per
        member, and the local searches then start from the ``starts`` lowest members
        of the last population. 0: no evolution, the local searches start from the
        screen.
    max_evaluations : int
        Budget of objective evaluations for each local search.
    diff_step : float
        Finite-difference step in unit coordinates.
    progress : callable, optional
        Called with a line of text after each evaluation.
    jacobian : bool
        Compute the Jacobian at the estimates (``2 k`` more evaluations for ``k``
        parameters; needed by :func:`bootstrap` and the sandwich errors).
    workers : int
        Processes that simulate the seeds of each evaluation in parallel (at most
        one per seed; 1: in this process). The fit does not depend on it.

    Returns
    -------
    FitResult
        With the Jacobian at the estimates unless ``jacobian`` is False (no bootstrap
        draws; see :func:`bootstrap`).
    """
    base = ChinaModel() if base is None else base
    targets = china_targets() if targets is None else tuple(targets)
    parameters = tuple(parameters)
    if not parameters:
        raise ParameterError("parameters", parameters, "at least one FitParameter")
    if not seeds:
        raise ParameterError("seeds", seeds, "at least one seed")
    obj = _Objective(base, parameters, targets, seeds, progress)
    current = current_values(base, parameters)
    given = dict(start or {})
    unknown = sorted(set(given) - {p.key for p in parameters})
    if unknown:
        raise ParameterError(f"start.{unknown[0]}", given[unknown[0]], "a fitted parameter's key")
    u0 = np.array([p.to_unit(given.get(p.key, current[p.key])) for p in parameters])
    if isinstance(starts, bool) or not isinstance(starts, int | np.integer) or starts < 1:
        raise ParameterError("starts", starts, "a whole number >= 1")
    if starts > int(screen) + 1:
        raise ParameterError("starts", starts, f"at most screen + 1 = {int(screen) + 1}")
    if isinstance(generations, bool) or not isinstance(generations, int | np.integer):
        raise ParameterError("generations", generations, "a whole number >= 0")
    if generations < 0 or (generations and screen < 4):
        raise ParameterError(
            "generations", generations, "0, or a whole number >= 1 with a screen of >= 4 points"
        )
    with _seed_pool(workers, len(seeds)) as pool:
        obj.executor = pool
        began = time.perf_counter()
        candidates = [(float(obj(u0) @ obj(u0)), 0, u0)]
        if screen:
            design = qmc.Sobol(len(parameters), seed=screen_seed).random(int(screen))
            for i, u in enumerate(design, start=1):
                r = obj(u)
                candidates.append((float(r @ r), i, u))
        candidates.sort(key=lambda c: (c[0], c[1]))
        if generations:
            candidates = _evolve(obj, candidates, int(generations), screen_seed)
        ends = []
        begins = [c[0] for c in candidates[: int(starts)]]
        for _, _, u_start in candidates[: int(starts)]:
            sol = least_squares(
                obj,
                u_start,
                bounds=(0.0, 1.0),
                method="trf",
                diff_step=diff_step,
                x_scale=1.0,
                max_nfev=max_evaluations,
                xtol=1e-4,
                ftol=1e-6,
            )
            ends.append(float(sol.fun @ sol.fun))
        u_hat = obj.best[1]
        jac = _jacobian(obj, u_hat, diff_step) if jacobian else None
        moments = obj.moments(u_hat)
        r = residuals(targets, moments)
        estimates = obj.values(u_hat)
        changes = {**base_changes(base), **expand(parameters, estimates)}
        return FitResult(
            parameters=parameters,
            estimates=estimates,
            changes=changes,
            targets=tuple(targets),
            moments=moments,
            seeds=tuple(seeds),
            objective=float(r @ r),
            jacobian=jac,
            evaluations=obj.count,
            seconds=time.perf_counter() - began,
            notes={
                "optimizer": "scipy.optimize.least_squares (trf)",
                "status": int(sol.status),
                "screen": int(screen),
                "starts": int(starts),
                "generations": int(generations),
                "start_objectives": ends,
                "local_start_objectives": begins,
                "diff_step": float(diff_step),
            },
        )


def _evolve(
    obj: _Objective,
    candidates: list[tuple[float, int, np.ndarray]],
    generations: int,
    seed: int,
) -> list[tuple[float, int, np.ndarray]]:
    """Differential evolution from the screened points; its last population, lowest first.

    The screen (with the start values) is the first population, already evaluated
    (the objective's cache answers it again); ``scipy.optimize.differential_evolution``
    (best1bin, mutation 0.5 to 1, recombination 0.7, no polishing) then runs
    ``generations`` generations. Storn, R., Price, K. (1997). Differential evolution: a
    simple and efficient heuristic for global optimization over continuous spaces.
    Journal of Global Optimization 11, 341-359.
    """
    from scipy.optimize import differential_evolution

    def sum_of_squares(u: np.ndarray) -> float:
        r = obj(u)
        return float(r @ r)

    init = np.array([u for _, _, u in candidates])
    found = differential_evolution(
        sum_of_squares,
        [(0.0, 1.0)] * init.shape[1],
        init=init,
        maxiter=generations,
        polish=False,
        seed=seed,
        tol=0.0,
    )
    order = np.argsort(found.population_energies, kind="stable")
    return [
        (float(found.population_energies[i]), int(i), np.asarray(found.population[i]))
        for i in order
    ]


def _jacobian(obj: _Objective, u: np.ndarray, step: float) -> np.ndarray:
    """Central differences in unit coordinates (one-sided at a bound)."""
    cols = []
    for j in range(u.size):
        lo, hi = u.copy(), u.copy()
        lo[j] = max(u[j] - step, 0.0)
        hi[j] = min(u[j] + step, 1.0)
        cols.append((obj(hi) - obj(lo)) / (hi[j] - lo[j]))
    return np.column_stack(cols)


def synthetic_targets(
    model: ChinaModel, targets: Sequence[Target], seeds: Sequence[int] = (0,)
) -> tuple[Target, ...]:
    """The targets with their values replaced by the model's own moments (for recovery tests)."""
    m = model_moments(model, targets, seeds)
    return tuple(replace(t, value=float(v)) for t, v in zip(targets, m, strict=True))


def bootstrap(
    result: FitResult,
    base: ChinaModel | None = None,
    *,
    replications: int = 30,
    seed: int = 12345,
    damping: float = 0.01,
    progress: Callable[[str], None] | None = None,
    workers: int = 1,
) -> FitResult:
    """Parametric bootstrap of a fit, linearised at the estimates.

    Each replication draws every published count as Poisson around its figure
    (a ratio from its drawn numerator and denominator; the assumed 2008
    clearance stays 1) and fresh simulation seeds, evaluates the residuals at the
    estimates, and moves the estimates by one Levenberg-Marquardt step with the
    Jacobian at the estimates,

        theta_b = theta_hat - (J'J + damping diag(J'J))^-1 J' (r_b - r_hat),

    within the bounds (a one-step bootstrap: Davidson & MacKinnon 1999; Andrews
    2002). Centring on the estimate's own residuals ``r_hat`` keeps the
    systematic misfit out of the draws, which then show the spread due to the
    counts' sampling noise and the simulation noise, not the model's
    misspecification. The damping keeps weakly identified directions from
    taking unbounded steps.

    Parameters
    ----------
    result : FitResult
        A fit with its Jacobian.
    base : ChinaModel, optional
        The model of the fit (``result.model()`` if None).
    replications : int
        Bootstrap replications.
    seed : int
        Seed of the bootstrap's own draws (counts and simulation seeds).
    damping : float
        Levenberg-Marquardt damping, relative to the diagonal of ``J'J``.
    workers : int
        Processes that simulate each replication's seeds in parallel (as in
        :func:`fit`; the draws do not depend on it).

    Returns
    -------
    FitResult
        ``result`` with ``draws`` (one row of estimates per replication).

    References
    ----------
    Davidson, R., MacKinnon, J. G. (1999). Bootstrap testing in nonlinear models.
    International Economic Review 40(2), 487-508.
    """
    if result.jacobian is None:
        raise ParameterError("result.jacobian", None, "a fit with its Jacobian")
    base = result.model() if base is None else base
    rng = np.random.default_rng(seed)
    params = result.parameters
    u_hat = np.array([p.to_unit(result.estimates[p.key]) for p in params])
    r_hat = residuals(result.targets, result.moments)
    J = result.jacobian
    H = J.T @ J
    H = H + damping * np.diag(np.diag(H)) + 1e-9 * np.eye(len(params))
    draws = []
    with _seed_pool(workers, len(result.seeds)) as pool:
        for b in range(replications):
            targets = _perturbed(result.targets, rng)
            size = len(result.seeds)
            seeds = tuple(int(x) for x in rng.integers(1_000_000, 2**31 - 1, size=size))
            obj = _Objective(base, params, targets, seeds, None)
            obj.executor = pool
            u = np.clip(u_hat - np.linalg.solve(H, J.T @ (obj(u_hat) - r_hat)), 0.0, 1.0)
            draws.append([p.to_value(x) for p, x in zip(params, u, strict=True)])
            if progress is not None:
                progress(f"bootstrap {b + 1}/{replications}")
    return replace(result, draws=np.array(draws))


def _perturbed(targets: Sequence[Target], rng: np.random.Generator) -> tuple[Target, ...]:
    out = []
    for t in targets:
        if t.kind == "clearance":
            out.append(t)
        elif t.kind == "window_victims_per_solved":
            # the ratio of two counts: draw both (the denominator is the paired solved count)
            solved = next(
                (
                    u.value
                    for u in targets
                    if u.kind == "window_solved" and u.case_type == t.case_type
                ),
                None,
            )
            if solved is None:
                out.append(t)
                continue
            num = rng.poisson(t.value * solved)
            den = max(rng.poisson(solved), 1)
            out.append(replace(t, value=float(max(num, 1)) / den))
        else:
            out.append(replace(t, value=float(max(rng.poisson(t.value), 1))))
    return tuple(out)
