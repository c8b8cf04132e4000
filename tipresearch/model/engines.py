"""Simulation of bureaus' intake, period by period: two engines that agree in distribution,
and one that gives their expectation.

``engine="aggregate"`` draws the counts directly (``docs/model.md``, section 3.3.9):
``N ~ Poisson(lambda)``, ``O | N ~ Binomial(N, P(open))``, and, given ``O``,
``S | O ~ Binomial(O, E[s' | open] h(K / O))``; its cost does not grow with the
number of reports. ``engine="micro"`` draws every report's solvability, noise,
decision and outcome, processing reports in chunks so that memory stays bounded.
``engine="expected"`` draws nothing but the bureaus: each count is its expectation
from the closed forms the best response uses, and the backlog, the stock of declined
reports and the dynamics are carried as a deterministic recursion on the expected
state (``docs/model.md``, section 3.3.14, says where that is exact and where it is an
approximation).

Randomness: one seed gives two independent seed sequences, one for the bureaus
(expected reports and capacity) and one for the draws, split into separate
streams for report counts, solvability, screening noise, outcomes, victims,
the backlog and the recall of declined reports. Streams are consumed in report
order, so the micro engine's result does not depend on its chunk size, and the
report counts are common random numbers across metrics and engines.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from tipresearch.checks import check_seed
from tipresearch.errors import ParameterError

from .bureaus import Bureaus, draw_bureaus, draw_reports
from .decision import best_thresholds
from .dynamics import Dynamics, DynamicState, shared_capacity
from .effort import effort_factor
from .expected import expected_flows, type_moments
from .metrics import Metric, get_metric
from .outputs import frame_of_counts, realized_score
from .params import CaseType, ModelParams

__all__ = ["ENGINES", "Schedule", "simulate"]

ENGINES = ("aggregate", "micro", "expected")
_STREAMS = (
    "reports",
    "mixing",
    "solvability",
    "noise",
    "outcome",
    "declined",
    "victims",
    "backlog",
    "late",
    "recall",  # last: SeedSequence.spawn keeps the earlier streams' seeds
)

#: Counts each engine draws per block, by name.
_COUNTS = (
    "reports",
    "opened",
    "solved",
    "solved_backlog",
    "victims_rescued",
    "backlog",
    "declined_solvable",
    "recalled",
)

#: A schedule maps (period index from 0, calendar month) to that period's
#: parameters and metric; the reforms module builds them.
Schedule = Callable[[int, pd.Period], tuple[ModelParams, Metric]]


@dataclass
class _Regime:
    """Best responses for one (params, metric) pair, computed once."""

    target: np.ndarray  # (B, K) best-response thresholds
    p_open: np.ndarray
    mass: np.ndarray


class _Streams:
    def __init__(self, ss: np.random.SeedSequence) -> None:
        for name, child in zip(_STREAMS, ss.spawn(len(_STREAMS)), strict=True):
            setattr(self, name, np.random.default_rng(child))


def _micro_type(
    st: _Streams,
    ct: CaseType,
    params: ModelParams,
    n: np.ndarray,
    tau: np.ndarray,
    cap: np.ndarray,
    chunk_size: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Draw every report of one case type in one period; return O, S, R, DS per bureau."""
    b_count = n.size
    opened = np.zeros(b_count, dtype=np.int64)
    solved = np.zeros(b_count, dtype=np.int64)
    victims = np.zeros(b_count, dtype=np.int64)
    dsolv = np.zeros(b_count, dtype=np.int64)
    a, b, d = ct.beta_a, ct.beta_b, ct.dna_effect
    sigma = params.screening_noise
    extra = ct.victims_per_solved - 1.0

    def draw_decisions(lo: int, hi: int, counts: np.ndarray) -> tuple[np.ndarray, ...]:
        size = int(counts.sum())
        idx = np.repeat(np.arange(lo, hi), counts)
        s = d + (1.0 - d) * st.solvability.beta(a, b, size)
        signal = s + sigma * st.noise.standard_normal(size) if sigma > 0 else s
        return idx, s, signal >= tau[idx]

    def draw_outcomes(idx: np.ndarray, s: np.ndarray, is_open: np.ndarray, h: np.ndarray) -> None:
        u = st.outcome.random(s.size)
        ok = is_open & (u < s * h[idx])
        ds = ~is_open & (u < s)
        solved_idx = idx[ok]
        solved[:] += np.bincount(solved_idx, minlength=b_count)
        dsolv[:] += np.bincount(idx[ds], minlength=b_count)
        if extra > 0:
            more = st.victims.poisson(extra, solved_idx.size)
            victims[:] += np.bincount(solved_idx, weights=more, minlength=b_count).astype(np.int64)
        victims[:] += np.bincount(solved_idx, minlength=b_count)

    start = 0
    while start < b_count:
        # widest run of whole bureaus that fits the chunk (at least one bureau)
        csum = np.cumsum(n[start:])
        stop = start + max(1, int(np.searchsorted(csum, chunk_size, side="right")))
        counts = n[start:stop]
        if stop - start > 1 or counts[0] <= chunk_size:
            idx, s, is_open = draw_decisions(start, stop, counts)
            opened[start:stop] = np.bincount(idx[is_open] - start, minlength=stop - start)
            h = cap / (cap + params.effort_half * opened)
            draw_outcomes(idx, s, is_open, h)
        else:
            # one bureau with more reports than a chunk: count its openings in
            # sub-chunks, then replay the same solvability and noise draws
            saved = (st.solvability.bit_generator.state, st.noise.bit_generator.state)
            total = int(counts[0])
            pieces = [chunk_size] * (total // chunk_size) + (
                [total % chunk_size] if total % chunk_size else []
            )
            for piece in pieces:
                _, _, is_open = draw_decisions(start, stop, np.array([piece]))
                opened[start] += int(is_open.sum())
            st.solvability.bit_generator.state, st.noise.bit_generator.state = saved
            h = cap / (cap + params.effort_half * opened)
            for piece in pieces:
                idx, s, is_open = draw_decisions(start, stop, np.array([piece]))
                draw_outcomes(idx, s, is_open, h)
        start = stop
    return opened, solved, victims, dsolv


def simulate(
    params: ModelParams | None = None,
    metric: str | Metric = "solved_count",
    periods: int = 12,
    seed: int = 0,
    engine: str = "aggregate",
    *,
    start: str = "2008-01",
    schedule: Schedule | None = None,
    dynamics: Dynamics | None = None,
    chunk_size: int = 1 << 20,
    bureaus: Bureaus | None = None,
) -> pd.DataFrame:
    """Simulate intake, solving, rescues and the backlog, one row per bureau, type and period.

    Parameters
    ----------
    params : ModelParams, optional
        Model parameters (defaults if None).
    metric : str or Metric
        The metric bureaus are rated by (a preset name, ``"planner"``, or a Metric).
    periods : int
        Number of monthly periods ``T`` (>= 1).
    seed : int
        Root seed (>= 0): the same seed gives the same frame.
    engine : {"aggregate", "micro", "expected"}
        Draw counts directly, or every report, or take each count's expectation
        (only the bureaus are drawn from the seed; counts are then floats).
    start : str
        Calendar month of the first period (``"YYYY-MM"``).
    schedule : callable, optional
        ``schedule(t, month) -> (params, metric)`` for period ``t`` (from 0); the
        bureaus stay those drawn from ``params``, their expected reports and capacity
        scaled by the period's ``reports_mean`` and ``capacity_ratio`` relative to
        ``params``; the case types must keep their names.
    dynamics : Dynamics, optional
        Partial adjustment of thresholds, learning by doing and deterrence
        (:mod:`tipresearch.model.dynamics`); default: thresholds at the best response
        every period and no feedback.
    chunk_size : int
        Micro engine: reports held in memory at once (>= 1024).
    bureaus : Bureaus, optional
        Use these bureaus instead of drawing them from the seed.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`OUTPUT_COLUMNS`: counts (reports, opened, declined, solved,
        solved_backlog, recalled, victims_rescued, backlog, declined_solvable), the
        clearance rate (solved / opened, NaN when nothing was opened), the
        threshold and the metric's realised score.

    Notes
    -----
    Without feedback all periods are planned first and the aggregate engine
    draws them in one block; with feedback (learning, deterrence) each period is
    planned from the state the previous ones left. Every kind of draw has its
    own stream, consumed in period order, so both ways give the same numbers.
    """
    params = ModelParams() if params is None else params
    metric = get_metric(metric)
    dyn = Dynamics() if dynamics is None else dynamics
    seed, first = _check_options(dyn, dynamics, engine, periods, seed, chunk_size, start)

    root = np.random.SeedSequence(seed)
    ss_bureaus, ss_draws = root.spawn(2)
    if bureaus is None:
        bureaus = draw_bureaus(params, ss_bureaus)
    run = _Run(params, metric, schedule, dyn, bureaus, _Streams(ss_draws), engine, chunk_size)
    run.start(pd.period_range(first, periods=int(periods), freq="M"))
    n_t = int(periods)
    block = 1 if dyn.has_feedback else n_t
    for t0 in range(0, n_t, block):
        run.block(t0, min(t0 + block, n_t))
    out = {name: p[0] if len(p) == 1 else np.concatenate(p) for name, p in run.parts.items()}
    return frame_of_counts(
        out, run.tau, run.score, run.plan, run.months, params.type_names, engine, seed, metric
    )


def _check_options(
    dyn: object,
    dynamics: object,
    engine: object,
    periods: object,
    seed: object,
    chunk_size: object,
    start: object,
) -> tuple[int, pd.Period]:
    """Check :func:`simulate`'s options; return the seed and the first month."""
    if not isinstance(dyn, Dynamics):
        raise ParameterError("dynamics", dynamics, "a tipresearch.model.dynamics.Dynamics or None")
    if engine not in ENGINES:
        raise ParameterError("engine", engine, f"one of {', '.join(ENGINES)}")
    if isinstance(periods, bool) or not isinstance(periods, int | np.integer) or periods < 1:
        raise ParameterError("periods", periods, "a whole number >= 1")
    seed = check_seed(seed)
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size < 1024:
        raise ParameterError("chunk_size", chunk_size, "a whole number >= 1024")
    try:
        first = pd.Period(start, freq="M")
    except (ValueError, TypeError) as exc:
        raise ParameterError("start", start, "a month such as '2008-01'") from exc
    return seed, first


class _BlockModels:
    """The distinct (params, metric) pairs of a block, and each period's index among them."""

    def __init__(self, block_plan: list[tuple[ModelParams, Metric]]) -> None:
        self.distinct = list(dict.fromkeys(block_plan))
        self.which = np.array([self.distinct.index(key) for key in block_plan])

    def per_type(self, attr: str) -> np.ndarray:
        """A case-type field, shaped (periods, 1, types)."""
        values = np.array([[getattr(ct, attr) for ct in p.case_types] for p, _ in self.distinct])
        return values[self.which][:, None, :]

    def per_model(self, attr: str) -> np.ndarray:
        """A model field, shaped (periods, 1, 1)."""
        return np.array([getattr(p, attr) for p, _ in self.distinct])[self.which][:, None, None]


class _Run:
    """One simulation: the model, its bureaus and random streams, and what is recorded.

    :meth:`block` simulates periods ``t0 .. t1 - 1`` in four steps (``docs/model.md``,
    section 1.3): plan the parameters, metric and thresholds (:meth:`plan`); draw the
    counts (:meth:`draw`); update the backlog (:meth:`advance_backlog`) and the stock
    of declined-but-solvable reports (:meth:`advance_declined`); record the counts
    and each period's realised score (:meth:`record`).
    """

    def __init__(
        self,
        params: ModelParams,
        metric: Metric,
        schedule: Schedule | None,
        dyn: Dynamics,
        bureaus: Bureaus,
        streams: _Streams,
        engine: str,
        chunk_size: int,
    ) -> None:
        self.params, self.metric, self.schedule, self.dyn = params, metric, schedule, dyn
        self.bureaus, self.st, self.engine, self.chunk_size = bureaus, streams, engine, chunk_size

    def start(self, months: pd.PeriodIndex) -> None:
        """Allocate the run's arrays for ``months``."""
        n_b, n_k, n_t = self.bureaus.reports.size, len(self.params.case_types), len(months)
        self.months = months
        self.parts: dict[str, list[np.ndarray]] = {name: [] for name in _COUNTS}  # per block
        self.tau = np.empty((n_t, n_b, n_k))
        self.score = np.empty((n_t, n_b, n_k))
        self.plan: list[tuple[ModelParams, Metric]] = []
        self.regimes: dict[tuple[ModelParams, Metric], _Regime] = {}
        self.state = DynamicState(self.dyn, (n_b, n_k))
        count = float if self.engine == "expected" else np.int64
        self.backlog = np.zeros((n_b, n_k), dtype=count)
        self.declined = np.zeros((n_b, n_k), dtype=count)  # declined-solvable stock
        self.static = self.schedule is None and not self.dyn.has_feedback

    def block(self, t0: int, t1: int) -> None:
        """Simulate periods ``t0 .. t1 - 1``."""
        lam, cap, p_open, mass = self.plan_block(t0, t1)
        models = _BlockModels(self.plan[t0:t1])
        n, opened, solved, victims, dsolv, extra = self.draw(t0, models, lam, cap, p_open, mass)
        late, backlogs = self.advance_backlog(models, opened, solved)
        if self.engine == "expected":
            late_victims = late * (1.0 + extra)
        else:
            late_victims = late + self.st.late.poisson(extra * late)
        recalled, recall_victims = self.advance_declined(models, dsolv, extra)
        if self.dyn.has_feedback:
            p_0 = self.plan[t0][0]
            h = effort_factor(lam[0] * p_open[0], cap[0], p_0.effort_half, p_0.dispersion)
            self.state.update(opened[0], mass[0] * h)
        rescued = victims + late_victims + recall_victims
        counts = (n, opened, solved, late, rescued, backlogs, dsolv, recalled)
        self.record(t0, t1, models, dict(zip(_COUNTS, counts, strict=True)))

    def plan_block(self, t0: int, t1: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Step 1: each period's parameters, metric, expected reports, capacity, thresholds.

        Returns expected reports, capacity, the chance a report is opened and the
        solvable mass of opened reports, each shaped (periods, bureaus, types).
        """
        params, dyn, tau, plan = self.params, self.dyn, self.tau, self.plan
        shape = (t1 - t0, *tau.shape[1:])
        lam, cap, p_open, mass = (np.empty(shape) for _ in range(4))
        for i, t in enumerate(range(t0, t1)):
            if self.static and t > 0:  # every period as the first (then i == t)
                plan.append(plan[0])
                lam[i], cap[i], tau[t], p_open[i], mass[i] = (
                    lam[0],
                    cap[0],
                    tau[0],
                    p_open[0],
                    mass[0],
                )
                continue
            if self.schedule is None:
                p_t, m_t = params, self.metric
            else:
                p_t, m_t = self.schedule(t, self.months[t])
            m_t = get_metric(m_t)
            if p_t.type_names != params.type_names:
                raise ParameterError(
                    "schedule", p_t.type_names, f"the case types {params.type_names}"
                )
            plan.append((p_t, m_t))
            shares = np.array([ct.share for ct in p_t.case_types])
            # a schedule scales incidence and capacity through reports_mean, capacity_ratio
            scale_n = p_t.reports_mean / params.reports_mean
            scale_k = p_t.capacity_ratio / params.capacity_ratio
            lam[i] = (
                self.bureaus.reports[:, None] * (scale_n * shares) * self.state.incidence_factor()
            )
            cap[i] = (
                self.bureaus.capacity[:, None] * (scale_k * shares) * self.state.capacity_factor()
            )
            if dyn.backlog_effort > 0:  # one period per block: the backlog is this period's
                cap[i] = shared_capacity(cap[i], self.backlog, p_t.effort_half, dyn.backlog_effort)
            # the thresholds alone: best_response's expected outcomes are not needed
            if dyn.has_feedback:
                target_tau = best_thresholds(p_t, m_t, lam[i], cap[i])
            else:
                key = (p_t, m_t)
                if key not in self.regimes:
                    best = best_thresholds(p_t, m_t, lam[i], cap[i])
                    self.regimes[key] = _Regime(best, *type_moments(p_t, best))
                target_tau = self.regimes[key].target
            if t == 0 or dyn.adjust_rate == 1.0:
                tau[t] = target_tau
            else:
                tau[t] = tau[t - 1] + dyn.adjust_rate * (target_tau - tau[t - 1])
            if not dyn.has_feedback and dyn.adjust_rate == 1.0:
                reg = self.regimes[(p_t, m_t)]
                p_open[i], mass[i] = reg.p_open, reg.mass
            else:
                p_open[i], mass[i] = type_moments(p_t, tau[t])
        return lam, cap, p_open, mass

    def draw(
        self,
        t0: int,
        models: _BlockModels,
        lam: np.ndarray,
        cap: np.ndarray,
        p_open: np.ndarray,
        mass: np.ndarray,
    ) -> tuple[np.ndarray, ...]:
        """Step 2: the counts, drawn directly (aggregate), report by report (micro), or
        their expectations (expected, :meth:`expect`).

        Returns reports, opened, solved, victims of new solves, declined-but-solvable
        reports, and the extra victims per solved case beyond the first.
        """
        st = self.st
        extra = models.per_type("victims_per_solved") - 1.0
        if self.engine == "expected":
            return (*self.expect(models, lam, cap, p_open, mass), extra)
        n = draw_reports(st.reports, st.mixing, lam, models.per_model("dispersion"))
        if self.engine == "aggregate":
            opened = st.solvability.binomial(n, p_open)
            h = cap / (cap + models.per_model("effort_half") * opened)
            cond = np.divide(mass, p_open, out=np.zeros_like(mass), where=p_open > 0)
            solved = st.outcome.binomial(opened, np.clip(cond * h, 0.0, 1.0))
            p_decl = 1.0 - p_open
            mean_s = models.per_type("mean_solvability")
            cond_d = np.divide(mean_s - mass, p_decl, out=np.zeros_like(mass), where=p_decl > 0)
            dsolv = st.declined.binomial(n - opened, np.clip(cond_d, 0.0, 1.0))
            victims = solved + st.victims.poisson(extra * solved)
        else:
            opened, solved, victims, dsolv = (np.empty_like(n) for _ in range(4))
            for i, (p_t, _) in enumerate(self.plan[t0 : t0 + len(n)]):
                t = t0 + i
                for k, ct in enumerate(p_t.case_types):
                    opened[i, :, k], solved[i, :, k], victims[i, :, k], dsolv[i, :, k] = (
                        _micro_type(
                            st,
                            ct,
                            p_t,
                            n[i, :, k],
                            self.tau[t, :, k],
                            cap[i, :, k],
                            self.chunk_size,
                        )
                    )
        return n, opened, solved, victims, dsolv, extra

    def expect(
        self,
        models: _BlockModels,
        lam: np.ndarray,
        cap: np.ndarray,
        p_open: np.ndarray,
        mass: np.ndarray,
    ) -> tuple[np.ndarray, ...]:
        """Step 2, expected engine: each count's expectation given the period's plan.

        ``E[N] = lam``, and opened, solved, victims and declined-but-solvable reports
        from :func:`tipresearch.model.expected.expected_flows` (``docs/model.md``,
        §3.3.14), computed once for the periods of a regime that share the same plan.

        Returns reports, opened, solved, victims of new solves and declined-but-solvable
        reports, each shaped (periods, bureaus, types).
        """
        counts = [np.empty_like(lam) for _ in range(4)]
        for r, (p_r, _) in enumerate(models.distinct):
            rows = np.flatnonzero(models.which == r)
            plan = (lam, cap, p_open, mass)
            # periods that share their plan share their expectations: compute one of them
            same = all(
                np.array_equal(x[rows], np.broadcast_to(x[rows[0]], x[rows].shape)) for x in plan
            )
            use = rows[:1] if same else rows
            for out, value in zip(
                counts, expected_flows(p_r, *(x[use] for x in plan)), strict=True
            ):
                out[rows] = value
        return (lam.copy(), *counts)

    def advance_backlog(
        self, models: _BlockModels, opened: np.ndarray, solved: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Step 3: cold-case solves at hazard eta, attrition at rho, new unsolved cases.

        Returns the cold-case solves and the backlog at the end of each period.
        """
        eta = models.per_type("backlog_hazard")
        rho = models.per_model("backlog_attrition")
        late = np.empty_like(opened)
        backlogs = np.empty_like(opened)
        backlog = self.backlog
        expected = self.engine == "expected"
        for i in range(len(opened)):
            if expected:  # the same recursion on the expected stock: linear, so exact
                late[i] = backlog * eta[i]
                remaining = backlog - late[i]
                backlog = remaining * (1.0 - rho[i]) + (opened[i] - solved[i])
            else:
                late[i] = self.st.backlog.binomial(backlog, eta[i])
                remaining = backlog - late[i]
                backlog = (
                    remaining
                    - self.st.backlog.binomial(remaining, rho[i])
                    + (opened[i] - solved[i])
                )
            backlogs[i] = backlog
        self.backlog = backlog
        return late, backlogs

    def advance_declined(
        self, models: _BlockModels, dsolv: np.ndarray, extra: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Step 3b: recall from the stock of declined-but-solvable reports, attrition, inflow.

        The stock holds, per bureau and type, the declined reports that standard
        effort would have solved (``declined_solvable``): only those can be solved
        if brought back. With ``G`` the stock carried into a period, ``r`` the
        type's ``recall_prob`` and ``rho`` the model's ``backlog_attrition`` (the
        trail of a declined report goes cold as fast as an unsolved case's),

        ``C ~ Bin(G, r)`` reports are recalled, registered and solved in the period;
        the remaining ``G - C`` lose ``Bin(G - C, rho)``; then the period's ``D``
        join: ``G' = G - C - attrition + D``. So ``E[C | G] = r G``, and with recall
        off and ``D`` constant in mean ``E[G] -> E[D] / rho``.

        Parameters
        ----------
        models : _BlockModels
            The block's parameters per period.
        dsolv : ndarray, shape (periods, bureaus, types)
            Declined-but-solvable reports of each period, ``D``.
        extra : ndarray, shape (periods, 1, types)
            Mean victims per solved case beyond the first, ``v_k - 1``.

        Returns
        -------
        recalled, victims : ndarray, shape (periods, bureaus, types)
            Recalled reports ``C`` and the victims their solves rescue (one plus a
            Poisson count each, as for other solves).

        Notes
        -----
        Every draw comes from the ``recall`` stream, so the other streams, and
        every other count, do not depend on the stock; in a period whose
        ``recall_prob`` is 0 for every type no recall is drawn. References:
        ``docs/model.md``, §3.3.10; 09BEIJING2594 ¶7 (old cases solved after the
        2009 reforms).
        """
        r = models.per_type("recall_prob")
        rho = models.per_model("backlog_attrition")
        recalled = np.zeros_like(dsolv)
        victims = np.zeros_like(dsolv)
        stock = self.declined
        rng = self.st.recall
        expected = self.engine == "expected"
        for i in range(len(dsolv)):
            if expected:  # linear in the stock: the expected recursion is exact
                recalled[i] = stock * r[i]
                victims[i] = recalled[i] * (1.0 + extra[i])
                stock = (stock - recalled[i]) * (1.0 - rho[i]) + dsolv[i]
                continue
            if (r[i] > 0).any():
                recalled[i] = rng.binomial(stock, r[i])
                victims[i] = recalled[i] + rng.poisson(extra[i] * recalled[i])
            remaining = stock - recalled[i]
            stock = remaining - rng.binomial(remaining, rho[i]) + dsolv[i]
        self.declined = stock
        return recalled, victims

    def record(self, t0: int, t1: int, models: _BlockModels, counts: dict[str, np.ndarray]) -> None:
        """Step 4: keep the block's counts, and each period's metric score on them."""
        for name, arr in counts.items():
            self.parts[name].append(arr)
        n, opened, solved = counts["reports"], counts["opened"], counts["solved"]
        rescued = counts["victims_rescued"]
        distinct, which = models.distinct, models.which
        for r, (p_r, m_r) in enumerate(distinct):
            sel = slice(None) if len(distinct) == 1 else np.flatnonzero(which == r)
            rows = slice(t0, t1) if len(distinct) == 1 else t0 + sel
            for k, ct in enumerate(p_r.case_types):
                self.score[rows, :, k] = realized_score(
                    m_r,
                    p_r,
                    ct,
                    n[sel, :, k],
                    opened[sel, :, k],
                    solved[sel, :, k],
                    rescued[sel, :, k],
                )
