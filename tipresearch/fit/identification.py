"""What the China fit can pin down: profile curves, errors robust to misspecification, bounds.

- :func:`profiles`: for each fitted parameter, the objective when that parameter is
  held at each point of a grid over its bounds and the others are refitted (a profile
  of the objective). A profile that stays flat says the figures do not pin the
  parameter down (:func:`identification_table`).
- :func:`~tipresearch.fit.result.sandwich_errors`: standard errors of the estimates
  from the Jacobian of the weighted residuals ``J`` and the residuals ``r`` at the
  estimates,
  ``(J'J)^-1 J' diag(r^2) J (J'J)^-1`` (White 1982; a sandwich estimator robust to
  misspecification), beside the one-step bootstrap of
  :func:`tipresearch.fit.bootstrap`, which by design leaves the misfit out.
- :func:`~tipresearch.fit.result.on_bounds`: which estimates sit on (or next to) a
  bound of their search.

References
----------
White, H. (1982). Maximum likelihood estimation of misspecified models.
Econometrica 50(1), 1-25. Murphy, S. A., van der Vaart, A. W. (2000). On profile
likelihood. Journal of the American Statistical Association 95(450), 449-465.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from tipresearch.errors import ParameterError
from tipresearch.experiments import run_points
from tipresearch.reforms import ChinaModel

from .calibrate import fit
from .parameters import FitParameter, expand
from .result import FitResult, _units, on_bounds, sandwich_errors

__all__ = [
    "AT",
    "FLAT_PROFILE",
    "best_profile_point",
    "identification_table",
    "profiles",
    "refit_chains",
    "traces_as_profile",
]

#: Values of a parameter whose profile objective is within this share of the profile's
#: minimum (and at least 0.005 absolute) fit about as well as the best: less than a
#: tenth of the misfit apart (:func:`identification_table`).
FLAT_PROFILE: float = 0.10


#: Prefix of the profile columns holding every fitted parameter's value at a point
#: (the held value and the others' refitted values), so a search can restart there.
AT: str = "at."


def _chain(values: Mapping[str, Any], seed: int, settings: Mapping[str, Any]) -> dict:
    """Refits at successive held values of one parameter (runs on a sweep executor).

    The chain starts next to the estimate and moves away from it; each refit of the
    other parameters starts from the one before (continuation), so that each starts
    close to its own minimum. Outputs are flattened as ``"<step>|<column>"``, since a
    sweep task returns one row of numbers.
    """
    params: tuple[FitParameter, ...] = settings["parameters"]
    key, chain = settings["chains"][int(values["chain"])]
    held = next(p for p in params if p.key == key)
    others = tuple(p for p in params if p.key != key)
    start = {k: v for k, v in settings["estimates"].items() if k != key}
    out: dict[str, float] = {}
    for step, value in enumerate(chain):
        base = ChinaModel().updated({**settings["changes"], **expand((held,), {key: value})})
        result = fit(
            base,
            settings["targets"],
            others,
            start=start,
            seeds=settings["seeds"],
            max_evaluations=settings["max_evaluations"],
            diff_step=settings["diff_step"],
            jacobian=False,
        )
        start = dict(result.estimates)
        out[f"{step}|value"] = float(value)
        out[f"{step}|objective"] = float(result.objective)
        out[f"{step}|evaluations"] = float(result.evaluations)
        out.update({f"{step}|{AT}{k}": float(v) for k, v in result.estimates.items()})
        out[f"{step}|{AT}{key}"] = float(value)
    return out


def refit_chains(
    result: FitResult,
    held: Mapping[str, Sequence[float]],
    *,
    max_evaluations: int,
    executor: str = "auto",
    workers: int | None = None,
) -> pd.DataFrame:
    """Refit the other parameters with one parameter held, by continuation from the estimate.

    For each parameter in ``held``, its values below the estimate are visited downward
    from it and those above upward; each refit starts from the refit before it in the
    same direction (the first from the estimates). Each direction of each parameter is
    one task on the sweep executors.

    Parameters
    ----------
    result : FitResult
    held : mapping of str to sequence of float
        Held values by fitted parameter key.
    max_evaluations : int
        Evaluations of each refit.
    executor, workers
        Sweep executors (:func:`tipresearch.experiments.run_points`).

    Returns
    -------
    pandas.DataFrame
        ``parameter``, ``value``, ``objective``, ``evaluations``, ``direction``
        (``below`` or ``above`` the estimate) and ``at.<key>`` for every fitted
        parameter, one row per held value.
    """
    chains: list[tuple[str, list[float]]] = []
    for key, vals in held.items():
        est = float(result.estimates[key])
        below = sorted((float(v) for v in vals if v < est), reverse=True)
        above = sorted(float(v) for v in vals if v >= est)
        chains += [(key, c) for c in (below, above) if c]
    settings = {
        "parameters": tuple(result.parameters),
        "chains": chains,
        "changes": result.fixed_changes(),
        "estimates": dict(result.estimates),
        "targets": tuple(result.targets),
        "seeds": tuple(result.seeds),
        "max_evaluations": int(max_evaluations),
        "diff_step": float(result.notes.get("diff_step", 0.03)),
    }
    if not chains:
        return pd.DataFrame(columns=["parameter", "value", "objective", "evaluations", "direction"])
    frame = run_points(
        _chain,
        [{"chain": i} for i in range(len(chains))],
        settings,
        executor=executor,
        workers=workers,
    )
    failed = frame[frame["error"].notna()]
    if len(failed):
        first = failed.iloc[0]
        raise ParameterError(
            "held", chains[int(first["chain"])][0], f"refits that run ({first['error']})"
        )
    rows = []
    for _, task in frame.iterrows():
        key, chain = chains[int(task["chain"])]
        direction = "below" if chain[0] < float(result.estimates[key]) else "above"
        for step in range(len(chain)):
            prefix = f"{step}|"
            row = {c[len(prefix) :]: task[c] for c in frame.columns if c.startswith(prefix)}
            rows.append({"parameter": key, **row, "direction": direction})
    out = pd.DataFrame(rows)
    out["evaluations"] = out["evaluations"].astype(int)
    return out


def profiles(
    result: FitResult,
    points: int = 5,
    *,
    max_evaluations: int = 25,
    executor: str = "auto",
    workers: int | None = None,
) -> pd.DataFrame:
    """Profile of the objective for each fitted parameter.

    Each parameter is held at ``points`` values evenly spaced in its unit
    coordinate (log scale where stated) and the other parameters are refitted, with
    the fit's targets and seeds (common random numbers), so the curves are comparable
    with the objective at the estimates. The refits go by continuation
    (:func:`refit_chains`): outward from the estimate, each from the refit next to it,
    so that a parameter that trades off against others is followed along the
    trade-off instead of being refitted from far away (where a short local search
    stops early and the profile looks steeper than it is).

    Parameters
    ----------
    result : FitResult
    points : int
        Grid points per parameter (>= 3).
    max_evaluations : int
        Evaluations of each refit (a local refit from its neighbour's values).
    executor, workers
        Sweep executors (:func:`tipresearch.experiments.run_points`).

    Returns
    -------
    pandas.DataFrame
        ``parameter``, ``unit``, ``value``, ``objective``, ``evaluations``,
        ``at.<key>`` (every fitted parameter's value at the point: the held one and
        the refitted others), and a row per parameter at the estimate itself
        (``at_estimate`` True).
    """
    if isinstance(points, bool) or not isinstance(points, int) or points < 3:
        raise ParameterError("points", points, "a whole number >= 3")
    grid = np.linspace(0.0, 1.0, points)
    held = {p.key: [p.to_value(float(u)) for u in grid] for p in result.parameters}
    frame = refit_chains(
        result, held, max_evaluations=max_evaluations, executor=executor, workers=workers
    )
    units = {p.key: p for p in result.parameters}
    frame["unit"] = [
        units[k].to_unit(v) for k, v in zip(frame["parameter"], frame["value"], strict=True)
    ]
    at = [f"{AT}{p.key}" for p in result.parameters]
    out = frame[["parameter", "unit", "value", "objective", "evaluations", *at]].copy()
    out["at_estimate"] = False
    here = pd.DataFrame(
        {
            "parameter": [p.key for p in result.parameters],
            "unit": _units(result),
            "value": [result.estimates[p.key] for p in result.parameters],
            "objective": result.objective,
            "evaluations": 0,
            **{f"{AT}{k}": float(v) for k, v in result.estimates.items()},
            "at_estimate": True,
        }
    )
    out = pd.concat([out, here], ignore_index=True)
    order = {p.key: i for i, p in enumerate(result.parameters)}
    return out.sort_values(
        ["parameter", "unit"],
        key=lambda c: c.map(order) if c.name == "parameter" else c,
        ignore_index=True,
    )


def best_profile_point(profile: pd.DataFrame) -> tuple[float, dict[str, float]]:
    """The lowest objective on a profile and every fitted parameter's value there.

    A profile that finds a lower objective than the estimates shows the search
    stopped in a local minimum; restarting the search from this point
    (``tipresearch calibrate --start-from-profile DIR``) continues from the best
    point found.

    Parameters
    ----------
    profile : pandas.DataFrame
        From :func:`profiles` (with its ``at.<key>`` columns).

    Returns
    -------
    tuple of (float, dict)
        The objective and the values by parameter key.
    """
    at = [c for c in profile.columns if c.startswith(AT)]
    if not at or "objective" not in profile:
        raise ParameterError(
            "profile", sorted(profile.columns), "a profile with objective and at.<key> columns"
        )
    rows = profile.dropna(subset=["objective", *at])
    if rows.empty:
        raise ParameterError("profile", len(profile), "at least one point with every value")
    best = rows.loc[rows["objective"].idxmin()]
    return float(best["objective"]), {c[len(AT) :]: float(best[c]) for c in at}


def traces_as_profile(result: FitResult, traces: Sequence[pd.DataFrame]) -> pd.DataFrame:
    """Ridge traces (:func:`tipresearch.fit.trace_ridge`) as rows of a profile.

    A point of a trace is a profile point: the parameter held, the others refitted
    (there by continuation, with a larger budget). Its estimate row is left out; the
    profile has its own.
    """
    by_key = {p.key: p for p in result.parameters}
    frames = []
    for trace in traces:
        need = {"parameter", "value", "objective", "direction"}
        if not isinstance(trace, pd.DataFrame) or not need <= set(trace.columns):
            raise ParameterError("traces", type(trace).__name__, f"frames with columns {need}")
        rows = trace[trace["direction"] != "estimate"].copy()
        unknown = set(rows["parameter"]) - set(by_key)
        if unknown:
            raise ParameterError("traces", sorted(unknown)[0], "traces of fitted parameters")
        pairs = zip(rows["parameter"], rows["value"], strict=True)
        rows["unit"] = [by_key[k].to_unit(float(v)) for k, v in pairs]
        rows["at_estimate"] = False
        frames.append(rows.drop(columns=["direction"]))
    if not frames:
        return pd.DataFrame(columns=["parameter", "unit", "value", "objective", "at_estimate"])
    return pd.concat(frames, ignore_index=True)


def identification_table(
    result: FitResult, profile: pd.DataFrame, traces: Sequence[pd.DataFrame] = ()
) -> pd.DataFrame:
    """One row per fitted parameter: how well the figures pin it down.

    The values that fit about as well as the best are the grid points whose profile
    objective is within ``max(FLAT_PROFILE * minimum, 0.005)`` of the profile's minimum.
    A parameter is *identified* when they span less than half of its search range (in
    unit coordinates, log scale where stated); otherwise a wide range of values fits
    about equally well and the figures do not pin it down.

    Parameters
    ----------
    result : FitResult
    profile : pandas.DataFrame
        From :func:`profiles` (``parameter``, ``unit``, ``value``, ``objective``).
    traces : sequence of pandas.DataFrame
        Ridge traces (:func:`tipresearch.fit.trace_ridge`), whose points join the
        profile of the parameter they hold (:func:`traces_as_profile`): a trace
        follows a trade-off that a coarse profile can step over.

    Returns
    -------
    pandas.DataFrame
        ``parameter``, ``estimate``, ``profile_rise`` (highest minus lowest objective
        over the grid), ``near_best_low`` and ``near_best_high`` (the lowest and highest
        grid values that fit about as well as the best), ``identified``,
        ``profile_minimum_at`` (the grid value with the lowest objective),
        ``profile_minimum``, ``below_estimate`` (the profile found an objective lower
        than the fit's own by more than the tolerance: the fit did not reach its
        minimum), ``robust_std_error`` (:func:`sandwich_errors`), ``on_bound``
        (:func:`on_bounds`), ``points`` (profile and trace points used) and ``traced``
        (whether a ridge trace of the parameter was among them).
    """
    need = {"parameter", "unit", "value", "objective"}
    if not isinstance(profile, pd.DataFrame) or not need <= set(profile.columns):
        raise ParameterError("profile", type(profile).__name__, f"a frame with {need}")
    traced = traces_as_profile(result, traces)
    traced_keys = set(traced["parameter"])
    if len(traced):
        columns = list(profile.columns.intersection(traced.columns))
        profile = pd.concat([profile, traced[columns]], ignore_index=True)
    robust = sandwich_errors(result).set_index("parameter")
    bounds = on_bounds(result).set_index("parameter")
    rows = []
    for p in result.parameters:
        curve = profile[profile["parameter"] == p.key]
        if curve.empty:
            raise ParameterError("profile", p.key, "a profile of every fitted parameter")
        low = float(curve["objective"].min())
        tolerance = max(FLAT_PROFILE * low, 0.005)
        near = curve[curve["objective"] <= low + tolerance]
        span = float(near["unit"].max() - near["unit"].min())
        best = curve.loc[curve["objective"].idxmin()]
        rows.append(
            {
                "parameter": p.key,
                "estimate": result.estimates[p.key],
                "profile_rise": float(curve["objective"].max()) - low,
                "near_best_low": float(near["value"].min()),
                "near_best_high": float(near["value"].max()),
                "identified": bool(span < 0.5),
                "profile_minimum_at": float(best["value"]),
                "profile_minimum": low,
                "below_estimate": bool(low < result.objective - tolerance),
                "robust_std_error": robust.loc[p.key, "robust_std_error"],
                "on_bound": bounds.loc[p.key, "on_bound"],
                "points": len(curve),
                "traced": p.key in traced_keys,
            }
        )
    return pd.DataFrame(rows)
