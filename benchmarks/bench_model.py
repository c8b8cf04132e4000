"""Speed and memory of the intake model's engines, on one core, as a table of figures.

Run ``make bench`` (or ``.venv/bin/python benchmarks/bench_model.py``); ``--quick`` runs a
reduced version in well under 30 s to check that the script works, and ``--profile``
adds a function- and line-level profile of every engine call that misses its target.
Each figure is printed with its target and PASS/MISS; the exit status is 0 whatever
the figures (this is a report), except that the Mesa port must agree with the
engines: if its means differ by more than 5 standard errors the script stops with an
AssertionError, since a wrong port would make the speed ratios meaningless.

Figures (see ``benchmarks/README.md``):

1. micro engine, reports drawn per second (whole ``simulate`` call);
2. aggregate engine, output rows (bureau x type x period) per second;
3. best response, bureau-type solves per second, with warm and cold moment tables;
4. the same micro model written as a typical Mesa model, its means against both
   engines and the ratios of time per bureau-period;
5. peak memory of the micro engine as reports grow, each size in a fresh process.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import cProfile  # noqa: E402
import gc  # noqa: E402
import io  # noqa: E402
import json  # noqa: E402
import linecache  # noqa: E402
import math  # noqa: E402
import platform  # noqa: E402
import pstats  # noqa: E402
import resource  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import tracemalloc  # noqa: E402
from collections import Counter  # noqa: E402
from collections.abc import Callable  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from tipresearch.model import (  # noqa: E402
    Bureaus,
    ModelParams,  # noqa: E402
    best_response,  # noqa: E402
    draw_bureaus,
    simulate,
)

METRIC = "solved_count"
MESA_BUDGET_S = 45.0  # wall time allowed for the timed Mesa run
AGREEMENT_Z = 5.0  # Mesa and engine means must agree within this many standard errors


def code_version() -> str:
    """The commit of the checkout and any uncommitted changes to the package, for the header."""
    root = Path(__file__).resolve().parent.parent
    try:
        head = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "--", "tipresearch"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split("\n")
    except (OSError, subprocess.CalledProcessError):
        return "model code: version unknown (not a git checkout)"
    changed = sorted(Path(line[3:]).name for line in dirty if line.strip())
    extra = f" with uncommitted changes to {', '.join(changed)}" if changed else ""
    return f"model code: commit {head}{extra}"


def pin_one_core() -> str:
    """Pin this process to the first CPU it may use; return a description."""
    if hasattr(os, "sched_setaffinity"):
        cpu = min(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {cpu})
        return f"pinned to CPU {cpu}"
    return "not pinned (no sched_setaffinity on this platform)"


# -- timing -------------------------------------------------------------------


def timed(fn: Callable[[], Any], repeats: int) -> tuple[float, float, Any]:
    """Best and median wall time of ``repeats`` calls (gc collected before, off during)."""
    times = []
    result = None
    for _ in range(repeats):
        gc.collect()
        gc.disable()
        try:
            t0 = time.perf_counter()
            result = fn()
            times.append(time.perf_counter() - t0)
        finally:
            gc.enable()
    return min(times), float(np.median(times)), result


@dataclass
class Figure:
    """One line of the results table."""

    name: str
    value: float
    unit: str
    target: float | None = None
    higher_is_better: bool = True
    note: str = ""
    profile: Callable[[], Any] | None = None  # the call to profile if the target is missed

    @property
    def status(self) -> str:
        if self.target is None:
            return ""
        ok = self.value >= self.target if self.higher_is_better else self.value <= self.target
        return "PASS" if ok else "MISS"


def fmt(x: float) -> str:
    if x == 0 or not math.isfinite(x):
        return f"{x:g}"
    if abs(x) >= 1e5:
        return f"{x:,.0f}"
    if abs(x) >= 100:
        return f"{x:,.1f}"
    return f"{x:.3g}"


def print_table(figures: list[Figure]) -> None:
    width = max(len(f.name) for f in figures)
    print(f"\n{'figure':<{width}}  {'value':>14}  {'unit':<22} {'target':>14}  status")
    print("-" * (width + 62))
    for f in figures:
        target = "" if f.target is None else ("≥ " if f.higher_is_better else "≤ ") + fmt(f.target)
        print(f"{f.name:<{width}}  {fmt(f.value):>14}  {f.unit:<22} {target:>14}  {f.status}")
        if f.note:
            print(f"{'':<{width}}    {f.note}")


# -- 1-3: the engines and the best response -------------------------------------


def bench_micro(n_bureaus: int, periods: int, reports: float, repeats: int) -> Figure:
    params = ModelParams(n_bureaus=n_bureaus, reports_mean=reports)
    simulate(params, METRIC, periods=2, seed=0, engine="micro")  # warm the moment tables

    def run() -> pd.DataFrame:
        return simulate(params, METRIC, periods=periods, seed=1, engine="micro")

    best, median, frame = timed(run, repeats)
    n = int(frame["reports"].sum())
    return Figure(
        f"micro engine, {n_bureaus:,} bureaus x {periods} periods x {reports:g} reports",
        n / best,
        "reports/s",
        5e6,
        note=f"{n:,} reports; best {best:.3f} s, median {median:.3f} s of {repeats}",
        profile=run,
    )


def bench_aggregate(n_bureaus: int, periods: int, repeats: int, target: float | None) -> Figure:
    params = ModelParams(n_bureaus=n_bureaus)
    simulate(params, METRIC, periods=2, seed=0)

    def run() -> pd.DataFrame:
        return simulate(params, METRIC, periods=periods, seed=1, engine="aggregate")

    best, median, frame = timed(run, repeats)
    return Figure(
        f"aggregate engine, {n_bureaus:,} bureaus x {periods} periods x 2 types",
        len(frame) / best,
        "bureau-type-periods/s",
        target,
        note=f"{len(frame):,} rows; best {best:.3f} s, median {median:.3f} s of {repeats}",
        profile=run,
    )


def bench_best_response(n_draws: int, repeats: int) -> list[Figure]:
    params = ModelParams()
    lam = np.random.default_rng(2009).lognormal(np.log(params.reports_mean), 0.5, n_draws)
    solves = n_draws * len(params.case_types)
    best_response(params, METRIC, reports=lam)  # tables now cached: warm

    best, median, _ = timed(lambda: best_response(params, METRIC, reports=lam), repeats)
    warm = Figure(
        f"best response, {n_draws:,} bureaus x 2 types, warm tables",
        solves / best,
        "solves/s",
        1e5,
        note=f"best {best:.3f} s, median {median:.3f} s of {repeats}",
        profile=lambda: best_response(params, METRIC, reports=lam),
    )
    # cold: a fresh parameter set each repeat, so the moment tables (cached per case
    # type) are rebuilt; solvability shapes moved by 1e-7 per repeat
    counter = iter(range(1, 10**6))

    def fresh() -> ModelParams:
        i = next(counter)
        return params.updated({"women.beta_a": 2.0 + 1e-7 * i, "children.beta_a": 1.0 + 1e-7 * i})

    cold_times = []
    for _ in range(repeats):
        p = fresh()
        t, _, _ = timed(lambda p=p: best_response(p, METRIC, reports=lam), 1)
        cold_times.append(t)
    best_c, median_c = min(cold_times), float(np.median(cold_times))
    p_profile = fresh()
    cold = Figure(
        f"best response, {n_draws:,} bureaus x 2 types, cold tables",
        solves / best_c,
        "solves/s",
        1e5,
        note=f"fresh parameters each repeat; best {best_c:.3f} s, median {median_c:.3f} s",
        profile=lambda: best_response(p_profile, METRIC, reports=lam),
    )
    return [warm, cold]


# -- 4: the same micro model written as a typical Mesa model ------------------------


def mesa_model_classes() -> tuple[type, type]:
    """A Mesa 3 port of the micro engine: bureaus are agents drawing reports one by one."""
    import mesa

    class BureauAgent(mesa.Agent):
        """A bureau: each step draws that period's reports of every type, one at a time."""

        def __init__(self, model: Any, index: int, reports: float, capacity: float, tau: Any):
            super().__init__(model)
            types = model.params.case_types
            self.index = index
            self.expected = [reports * ct.share for ct in types]
            self.capacity = [capacity * ct.share for ct in types]
            self.threshold = [float(t) for t in tau]
            self.backlog = [0] * len(types)

        def step(self) -> None:
            model, p = self.model, self.model.params
            rnd, rng = model.random, model.rng
            sigma, e_half, rho = p.screening_noise, p.effort_half, p.backlog_attrition
            for k, ct in enumerate(p.case_types):
                a, b, d = ct.beta_a, ct.beta_b, ct.dna_effect
                extra = ct.victims_per_solved - 1.0
                tau = self.threshold[k]
                n = int(rng.poisson(self.expected[k]))
                opened_s = []
                declined_solvable = 0
                for _ in range(n):
                    s = d + (1.0 - d) * rnd.betavariate(a, b)  # latent solvability
                    signal = s + sigma * rnd.gauss(0.0, 1.0) if sigma > 0 else s
                    if signal >= tau:
                        opened_s.append(s)
                    elif rnd.random() < s:  # declined, but standard effort would solve it
                        declined_solvable += 1
                opened = len(opened_s)
                cap = self.capacity[k]
                h = cap / (cap + e_half * opened)  # effort diluted over this period's intake
                solved = victims = 0
                for s in opened_s:
                    if rnd.random() < s * h:
                        solved += 1
                        victims += 1 + (int(rng.poisson(extra)) if extra > 0 else 0)
                late = int(rng.binomial(self.backlog[k], ct.backlog_hazard))
                remaining = self.backlog[k] - late
                self.backlog[k] = remaining - int(rng.binomial(remaining, rho)) + opened - solved
                if late:
                    victims += late + (int(rng.poisson(extra * late)) if extra > 0 else 0)
                model.records.append(
                    (model.steps, self.index, ct.name, n, opened, solved, late, victims)
                    + (self.backlog[k], declined_solvable)
                )

    class IntakeModel(mesa.Model):
        """Bureaus with fixed thresholds (the best response to the metric)."""

        def __init__(self, params: ModelParams, bureaus: Bureaus, metric: str, seed: int):
            super().__init__(seed=seed)
            self.params = params
            self.records: list[tuple] = []
            tau = best_response(params, metric, bureaus.reports, bureaus.capacity).threshold
            for i, (lam, cap) in enumerate(zip(bureaus.reports, bureaus.capacity, strict=True)):
                BureauAgent(self, i, float(lam), float(cap), tau[i])

        def step(self) -> None:
            self.agents.shuffle_do("step")

        def frame(self) -> pd.DataFrame:
            cols = ["period", "bureau", "case_type", "reports", "opened", "solved"]
            cols += ["solved_backlog", "victims_rescued", "backlog", "declined_solvable"]
            return pd.DataFrame(self.records, columns=cols)

    return BureauAgent, IntakeModel


def run_mesa(params: ModelParams, bureaus: Bureaus, periods: int, seed: int) -> pd.DataFrame:
    _, intake_model = mesa_model_classes()
    model = intake_model(params, bureaus, METRIC, seed)
    for _ in range(periods):
        model.step()
    return model.frame()


def stratified_mean(frame: pd.DataFrame, column: str) -> tuple[float, float]:
    """Mean per row and its standard error, from the variance within each bureau and type.

    Rows of one bureau and type are independent draws across periods (thresholds are
    fixed and intake does not depend on the backlog), so the standard error of the
    overall mean is ``sqrt(sum_g n_g s_g^2) / n`` with ``s_g^2`` the variance within
    group ``g``; the spread between bureaus, common to all runs, is left out.
    """
    x = frame[column].astype(float)
    groups = frame.groupby(["bureau", "case_type"], observed=True)[column]
    n_g, var_g = groups.count(), groups.var(ddof=1)
    return float(x.mean()), float(math.sqrt((n_g * var_g).sum()) / len(frame))


class _TimedGenerator:
    """A numpy Generator whose sampling calls add their wall time to a shared clock."""

    def __init__(self, gen: np.random.Generator, clock: list[float]) -> None:
        self._gen, self._clock = gen, clock

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._gen, name)
        if not callable(attr):
            return attr

        def call(*args: Any, **kwargs: Any) -> Any:
            t0 = time.perf_counter()
            try:
                return attr(*args, **kwargs)
            finally:
                self._clock[0] += time.perf_counter() - t0

        return call


def draw_seconds(run: Callable[[], Any], repeats: int) -> float:
    """Least time, over ``repeats`` runs, spent inside numpy's samplers during ``run()``.

    Every stream of :mod:`tipresearch.model.engines` is wrapped for the duration, so this
    is the part of an engine call that no rewriting of the surrounding code removes
    while the engine draws the same counts with numpy.
    """
    import tipresearch.model.engines as sim

    original = sim._Streams.__init__
    clock = [0.0]

    def wrapped(self: Any, ss: np.random.SeedSequence) -> None:
        original(self, ss)
        for name in sim._STREAMS:
            setattr(self, name, _TimedGenerator(getattr(self, name), clock))

    best = math.inf
    sim._Streams.__init__ = wrapped
    try:
        for _ in range(repeats):
            clock[0] = 0.0
            run()
            best = min(best, clock[0])
    finally:
        sim._Streams.__init__ = original
    return best


def bench_mesa(n_bureaus: int, periods: int, reports: float, repeats: int) -> list[Figure]:
    import mesa

    params = ModelParams(n_bureaus=n_bureaus, reports_mean=reports)
    bureaus = draw_bureaus(params, np.random.SeedSequence(7))
    bureau_periods = n_bureaus * periods

    ours = {}
    frames = {}
    for engine in ("micro", "aggregate"):
        simulate(params, METRIC, periods=2, seed=0, engine=engine, bureaus=bureaus)
        best, median, frames[engine] = timed(
            lambda engine=engine: simulate(
                params, METRIC, periods=periods, seed=11, engine=engine, bureaus=bureaus
            ),
            repeats,
        )
        ours[engine] = (best, median)

    def run_aggregate() -> pd.DataFrame:
        return simulate(
            params, METRIC, periods=periods, seed=11, engine="aggregate", bureaus=bureaus
        )

    t_draws = draw_seconds(run_aggregate, repeats)

    # Mesa: a short calibration run sets how many periods fit the time budget
    t_cal, _, _ = timed(lambda: run_mesa(params, bureaus, 2, seed=5), 1)
    mesa_periods = int(min(periods, max(2, MESA_BUDGET_S // (t_cal / 2))))
    t_mesa, _, frames["mesa"] = timed(lambda: run_mesa(params, bureaus, mesa_periods, seed=13), 1)
    mesa_per_bp = t_mesa / (n_bureaus * mesa_periods)
    mesa_reports = int(frames["mesa"]["reports"].sum())
    scaled = mesa_periods < periods

    print(
        f"\n[4] Mesa {mesa.__version__} port of the micro engine: {n_bureaus} bureaus, "
        f"{periods} periods, {reports:g} reports per bureau-period, 2 types, metric {METRIC}"
    )
    print(
        f"    our micro engine:     {ours['micro'][0]:.4f} s (best of {repeats}; median "
        f"{ours['micro'][1]:.4f} s) for {periods} periods"
    )
    print(
        f"    our aggregate engine: {ours['aggregate'][0]:.4f} s (best of {repeats}; median "
        f"{ours['aggregate'][1]:.4f} s) for {periods} periods"
    )
    print(
        f"    Mesa model:           {t_mesa:.2f} s for {mesa_periods} periods "
        f"({mesa_reports:,} reports, {1e6 * t_mesa / mesa_reports:.2f} µs each; one run)"
    )
    print(
        f"    of the aggregate run, {t_draws:.4f} s (best of {repeats}) is numpy's random "
        "draws alone; at 500x Mesa the whole run would have to take "
        f"{mesa_per_bp * bureau_periods / 500:.4f} s"
    )
    if scaled:
        print(
            f"    Mesa ran {mesa_periods} of {periods} periods to stay within "
            f"{MESA_BUDGET_S:.0f} s; ratios compare time per bureau-period, "
            f"Mesa's scaled to {periods} periods = {mesa_per_bp * bureau_periods:.1f} s"
        )

    # agreement of means (per bureau-type-period), Mesa against each engine
    print(
        "\n    mean per bureau-type-period ± standard error "
        f"(Mesa must agree within {AGREEMENT_Z:g} s.e.)"
    )
    head = f"    {'quantity':<28}{'Mesa':>18}{'micro':>18}{'aggregate':>18}"
    print(head + f"{'z Mesa-micro':>14}{'z Mesa-agg':>12}")
    failures = []
    subsets = [("all types", None)] + [(name, name) for name in params.type_names]
    for column in ("reports", "opened", "solved", "declined_solvable"):
        for label, case_type in subsets:
            stats = {}
            for key in ("mesa", "micro", "aggregate"):
                frame = frames[key]
                f = frame if case_type is None else frame[frame["case_type"] == case_type]
                stats[key] = stratified_mean(f, column)
            cells = "".join(f"{m:>10.3f} ± {s:<5.3f}" for m, s in stats.values())
            zs = []
            for other in ("micro", "aggregate"):
                (m1, s1), (m2, s2) = stats["mesa"], stats[other]
                z = (m1 - m2) / math.hypot(s1, s2)
                zs.append(z)
                if abs(z) > AGREEMENT_Z:
                    failures.append(f"{column} ({label}) Mesa vs {other}: z = {z:.2f}")
            print(f"    {column + ', ' + label:<28}{cells}{zs[0]:>14.2f}{zs[1]:>12.2f}")
    for column in ("victims_rescued", "backlog"):
        means = "".join(
            f"{frames[k][column].mean():>18.3f}" for k in ("mesa", "micro", "aggregate")
        )
        print(f"    {column + ', all types':<28}{means}   (serially correlated: not tested)")
    assert not failures, "Mesa port disagrees with the engines: " + "; ".join(failures)

    note = " (Mesa time scaled from fewer periods)" if scaled else ""
    return [
        Figure(
            f"Mesa / micro engine, {n_bureaus} bureaus x {periods} periods",
            mesa_per_bp / (ours["micro"][0] / bureau_periods),
            "x (time ratio)",
            7.0,
            note=f"time per bureau-period, both types{note}",
            profile=lambda: simulate(
                params, METRIC, periods=periods, seed=11, engine="micro", bureaus=bureaus
            ),
        ),
        Figure(
            f"Mesa / aggregate engine, {n_bureaus} bureaus x {periods} periods",
            mesa_per_bp / (ours["aggregate"][0] / bureau_periods),
            "x (time ratio)",
            500.0,
            note=f"time per bureau-period, both types{note}",
            profile=run_aggregate,
        ),
        Figure(
            f"Mesa / aggregate engine's numpy draws alone, {n_bureaus} bureaus x {periods} periods",
            mesa_per_bp / (t_draws / bureau_periods),
            "x (time ratio)",
            note="the ceiling of the ratio above while the counts are drawn with numpy",
        ),
    ]


# -- 5: peak memory of the micro engine --------------------------------------------


def _status_mb(field: str) -> float | None:
    """A memory field (``VmRSS``, ``VmHWM``) of /proc/self/status in MB, None if unavailable."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def _reset_peak_rss() -> bool:
    """Reset the kernel's peak-RSS mark of this process (Linux >= 4.0); True on success."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def memory_child(reports_mean: float, periods: int, n_bureaus: int) -> None:
    """Run one micro simulation and print its memory use as JSON (in a fresh process).

    The peak RSS is the kernel's high-water mark (``VmHWM``) reset just before the run,
    not ``ru_maxrss``, which a child started by fork and exec inherits from its parent.
    """
    params = ModelParams(n_bureaus=n_bureaus, reports_mean=reports_mean)
    simulate(ModelParams(n_bureaus=2), METRIC, periods=1, seed=0, engine="micro")  # warm up
    gc.collect()
    reset = _reset_peak_rss()
    base_rss = _status_mb("VmRSS")
    tracemalloc.start()
    t0 = time.perf_counter()
    frame = simulate(params, METRIC, periods=periods, seed=3, engine="micro")
    seconds = time.perf_counter() - t0
    _, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    peak_rss = _status_mb("VmHWM") if reset else None
    if peak_rss is None:  # no /proc: the process's high-water mark since it started
        scale = 1 if sys.platform == "darwin" else 1024  # bytes on macOS, else KiB
        peak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale / 2**20
    print(
        json.dumps(
            {
                "reports": int(frame["reports"].sum()),
                "rows": len(frame),
                "seconds": seconds,
                "base_rss_mb": base_rss if base_rss is not None else float("nan"),
                "peak_rss_mb": peak_rss,
                "traced_peak_mb": traced_peak / 2**20,
            }
        )
    )


def bench_memory(sizes: list[float], periods: int, n_bureaus: int) -> list[Figure]:
    print(
        f"\n[5] micro engine memory, {n_bureaus} bureaus x {periods} periods, "
        "reports grown through reports_mean; each size in a fresh process"
    )
    print(
        f"    {'reports_mean':>12}{'reports':>14}{'rows':>7}{'seconds':>9}"
        f"{'RSS before':>12}{'peak RSS':>10}{'growth':>10}{'traced peak':>13}"
    )
    results = []
    for reports_mean in sizes:
        cmd = [sys.executable, __file__, "--memory-child"]
        cmd += [repr(reports_mean), str(periods), str(n_bureaus)]
        out = subprocess.run(cmd, check=True, capture_output=True, text=True)
        r = json.loads(out.stdout.strip().splitlines()[-1])
        results.append(r)
        print(
            f"    {reports_mean:>12,.0f}{r['reports']:>14,}{r['rows']:>7}{r['seconds']:>9.2f}"
            f"{r['base_rss_mb']:>9.0f} MB{r['peak_rss_mb']:>7.0f} MB"
            f"{r['peak_rss_mb'] - r['base_rss_mb']:>7.0f} MB{r['traced_peak_mb']:>10.1f} MB"
        )
    print("    (seconds measured with tracemalloc on; RSS includes the interpreter and libraries)")
    small, large = results[0], results[-1]
    grow = large["reports"] / small["reports"]
    figures = [
        Figure(
            f"micro peak RSS, {large['reports']:.1e} / {small['reports']:.1e} reports",
            large["peak_rss_mb"] / small["peak_rss_mb"],
            "x (ratio)",
            1.5,
            higher_is_better=False,
            note=f"{large['peak_rss_mb']:.0f} MB vs {small['peak_rss_mb']:.0f} MB, "
            f"for {grow:,.0f} x the reports",
        ),
        Figure(
            f"micro traced peak, {large['reports']:.1e} / {small['reports']:.1e} reports",
            large["traced_peak_mb"] / small["traced_peak_mb"],
            "x (ratio)",
            None,
            note="allocations during simulate (tracemalloc); the smaller run fills less "
            "than one chunk of 2^20 reports",
        ),
    ]
    if len(results) > 2:
        mid = results[-2]
        figures.append(
            Figure(
                f"micro traced peak, {large['reports']:.1e} / {mid['reports']:.1e} reports",
                large["traced_peak_mb"] / mid["traced_peak_mb"],
                "x (ratio)",
                1.5,
                higher_is_better=False,
                note="both runs fill whole chunks: flat means memory bounded by chunk_size",
            )
        )
    return figures


# -- profiles of missed targets ------------------------------------------------------


def line_profile(call: Callable[[], Any], top: int = 12) -> str:
    """Wall time per source line of the ``tipresearch`` functions run by ``call``.

    Times are inclusive: a line that calls another package function counts its time.
    """
    acc: Counter = Counter()
    last: dict[int, tuple[tuple[str, int], float]] = {}

    def local(frame: Any, event: str, arg: Any) -> Any:
        now = time.perf_counter()
        key = id(frame)
        if key in last:
            where, since = last[key]
            acc[where] += now - since
        if event == "line":
            last[key] = ((frame.f_code.co_filename, frame.f_lineno), time.perf_counter())
        elif event == "return":
            last.pop(key, None)
        return local

    def tracer(frame: Any, event: str, arg: Any) -> Any:
        return local if f"{os.sep}tipresearch{os.sep}" in frame.f_code.co_filename else None

    sys.settrace(tracer)
    t0 = time.perf_counter()
    try:
        call()
    finally:
        total = time.perf_counter() - t0
        sys.settrace(None)
    lines = [
        f"      line-level (inclusive; tracing inflates Python-heavy lines), total {total:.3f} s:"
    ]
    for (path, no), secs in acc.most_common(top):
        src = linecache.getline(path, no).strip()[:80]
        lines.append(
            f"      {secs:7.3f} s {100 * secs / total:5.1f}%  {Path(path).name}:{no}  {src}"
        )
    return "\n".join(lines)


def profile_report(figure: Figure) -> str:
    prof = cProfile.Profile()
    prof.runcall(figure.profile)
    buf = io.StringIO()
    stats = pstats.Stats(prof, stream=buf).sort_stats("tottime")
    stats.print_stats(10)
    text = buf.getvalue()
    body = text[text.find("ncalls") :] if "ncalls" in text else text
    head = f"\n  {figure.name}: cProfile, top functions by own time (numpy Generator "
    head += "methods are Cython and count in their caller's own time)\n"
    return (
        head
        + "      "
        + body.strip().replace("\n", "\n      ")
        + "\n"
        + line_profile(figure.profile)
    )


# -- main ---------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="reduced workloads, under 30 s")
    parser.add_argument(
        "--profile", action="store_true", help="profile every engine call that misses its target"
    )
    parser.add_argument("--no-mesa", action="store_true", help="skip the Mesa comparison")
    parser.add_argument("--memory-child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    pinned = pin_one_core()
    if args.memory_child:
        reports_mean, periods, n_bureaus = args.memory_child
        memory_child(float(reports_mean), int(periods), int(n_bureaus))
        return 0

    import mesa  # noqa: F401  (fail early if the bench extra is missing)

    t_start = time.perf_counter()
    quick = args.quick
    print(
        f"tipresearch benchmarks{' (--quick: reduced workloads)' if quick else ''}: "
        f"Python {platform.python_version()}, numpy {np.__version__}, pandas {pd.__version__}, "
        f"{platform.processor() or platform.machine()}, one thread, {pinned}"
    )
    print(code_version())
    figures: list[Figure] = []
    if quick:
        figures.append(bench_micro(100, 120, 50, repeats=3))
        figures.append(bench_aggregate(1_000, 120, repeats=3, target=2e6))
        figures.append(bench_aggregate(100, 120, repeats=5, target=None))
        figures += bench_best_response(10_000, repeats=3)
    else:
        figures.append(bench_micro(1_000, 120, 50, repeats=5))
        figures.append(bench_aggregate(10_000, 120, repeats=5, target=2e6))
        figures.append(bench_aggregate(100, 120, repeats=7, target=None))
        figures += bench_best_response(100_000, repeats=5)
    print("\n[1-3] engines and best response")
    print_table(figures)
    if not args.no_mesa:
        n_b, t = (20, 12) if quick else (100, 120)
        figures += bench_mesa(n_b, t, 50, repeats=3 if quick else 7)
    if quick:
        figures += bench_memory([5e2, 5e4], periods=2, n_bureaus=100)
    else:
        figures += bench_memory([5e3, 5e4, 5e5], periods=2, n_bureaus=100)

    print("\nAll figures (best of the repeats; one core):")
    print_table(figures)
    missed = [f for f in figures if f.status == "MISS"]
    n_targets = sum(f.target is not None for f in figures)
    elapsed = time.perf_counter() - t_start
    print(f"\n{n_targets - len(missed)} of {n_targets} targets met; {elapsed:.0f} s in all")
    if args.profile:
        for f in missed:
            if f.profile is not None:
                print(profile_report(f))
    return 0


if __name__ == "__main__":
    sys.exit(main())
