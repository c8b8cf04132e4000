"""The China fit tested out of sample: every published figure, hold-out designs, predictions.

In-sample is not validation. :func:`china_figures` lists every published figure on
China's trafficking cases that the model can produce: the fit's targets
(:func:`~tipresearch.fit.targets.china_targets`) and the figures the fit never sees.
:data:`NOT_PRODUCED` names the figures in ``data/sources/published_figures.csv`` the
model cannot produce, with the reason. A :class:`HoldOut` design fits the model to a
subset of the figures, with the parameters that subset cannot pin down fixed at
stated values; :func:`fit_holdouts` refits each design on the sweep executors, and
:func:`predict` simulates every design on fresh seeds and sets each figure's
prediction (mean and 5-95% band over seeds) beside the published value, marked
``fitted``, ``implied`` (computed from fitted figures) or ``held out``
(:func:`out_of_sample_table`).

References
----------
``docs/model.md``, section 1.1 (the patterns the model is meant to reproduce);
``data/README.md`` for every row's source.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from tipresearch.data import load_published, published_row
from tipresearch.errors import ParameterError
from tipresearch.experiments import run_points
from tipresearch.reforms import ChinaModel

from .calibrate import fit
from .parameters import FITTED, FitParameter, expand
from .targets import Target, china_targets, model_moments

__all__ = [
    "HOLDOUTS",
    "NOT_PRODUCED",
    "PREDICTION_SEEDS",
    "HoldOut",
    "china_figures",
    "fit_holdouts",
    "out_of_sample_table",
    "predict",
]

#: Seeds of the predictions: none of them is a seed of the fit's objective.
PREDICTION_SEEDS: tuple[int, ...] = tuple(range(1000, 1020))

#: Published figures on China in ``data/sources/published_figures.csv`` that the model
#: cannot produce, with the reason (every other China row is a figure of
#: :func:`china_figures` or a date of the reform calendar).
NOT_PRODUCED: dict[str, str] = {
    "cn_reg_total_2008": "all criminal cases: the model holds trafficking reports only",
    "cn_reg_total_2009": "all criminal cases: the model holds trafficking reports only",
    "cn_reg_total_2011": "all criminal cases: the model holds trafficking reports only",
    "cn_reg_total_2020": "all criminal cases: the model holds trafficking reports only",
    "cn_solved_total_2009": "all criminal cases: the model holds trafficking reports only",
    "cn_clearance_all_2003": "clearance of all crimes: the model holds trafficking reports only",
    "cn_clearance_all_2007": "clearance of all crimes: the model holds trafficking reports only",
    "cn_dna_matched_2009_2012": (
        "children identified through the DNA database: the model raises solvability with "
        "the database but does not count identifications"
    ),
    "cn_recorded_share_1985": (
        "recorded share of all crimes in one city in the 1980s: compared with the model's "
        "implied recorded share in notebook 03, not a trafficking figure"
    ),
    "cn_recorded_share_1987": (
        "recorded share of all crimes in one city in the 1980s: compared with the model's "
        "implied recorded share in notebook 03, not a trafficking figure"
    ),
    "cn_recorded_share_1988": (
        "recorded share of all crimes in one city in the 1980s: compared with the model's "
        "implied recorded share in notebook 03, not a trafficking figure"
    ),
    "cn_actual_crimes_2004": "estimated actual crimes of all kinds, not trafficking",
    "cn_recorded_crimes_2004": "recorded crimes of all kinds, not trafficking",
}


def _figure(pub: pd.DataFrame, rid: str) -> tuple[float, str]:
    row = published_row(pub, rid)
    return float(row["value"]), str(row["confidence"])


def china_figures(published: pd.DataFrame | None = None) -> tuple[Target, ...]:
    """Every published figure on China's trafficking cases the model can produce.

    The fit's targets first (:func:`~tipresearch.fit.targets.china_targets`), then the
    figures no fit in the repository uses as a target:

    - registered cases in 2009 over 2008 (6,513 / 2,566; China Statistical Yearbook
      2010, table 22-11);
    - registered cases per year before 2009, published as a range of 2,500 to 3,000
      (China Daily, 2 June 2009), checked on the simulated year 2007;
    - cases solved from 9 April to 25 May 2009, about 700 (China Daily, 2 June 2009);
    - child-trafficking cases registered in 2012 (5,907) and 2020 (666) (Xinhua,
      17 September 2021);
    - women and children rescued in 2011 (15,458 and 8,660; Xinhua, 9 March 2012).

    Parameters
    ----------
    published : pandas.DataFrame, optional
        Tables from :func:`tipresearch.data.load_published` (loaded if None).

    Returns
    -------
    tuple of Target
    """
    pub = load_published() if published is None else published
    out = list(china_targets(pub))
    v09, c09 = _figure(pub, "cn_reg_traf_2009")
    v08, c08 = _figure(pub, "cn_reg_traf_2008")
    out.append(
        Target(
            "growth_2009",
            "growth",
            "all",
            v09 / v08,
            c09 if c09 == c08 else "secondary",
            ("cn_reg_traf_2009", "cn_reg_traf_2008"),
            year=2009,
            description="registered cases in 2009 over 2008",
        )
    )
    row = published_row(pub, "cn_reg_traf_pre2009")
    out.append(
        Target(
            "registered_2007",
            "registered",
            "all",
            float(row["value"]),
            str(row["confidence"]),
            ("cn_reg_traf_pre2009",),
            year=2007,
            description="cases registered in 2007 (published: 2,500-3,000 a year)",
            value_high=float(row["value_high"]),
        )
    )
    row = published_row(pub, "cn_solved_2009_to_may25")
    out.append(
        Target(
            "solved_2009_to_may25",
            "window_solved",
            "all",
            float(row["value"]),
            str(row["confidence"]),
            ("cn_solved_2009_to_may25",),
            first_day=str(row["period_start"].date()),
            last_day=str(row["period_end"].date()),
            description="cases solved, 9 April to 25 May 2009 (about 700)",
        )
    )
    for year in (2012, 2020):
        rid = f"cn_child_traf_reg_{year}"
        value, conf = _figure(pub, rid)
        out.append(
            Target(
                f"registered_children_{year}",
                "registered",
                "children",
                value,
                conf,
                (rid,),
                year=year,
                description=f"child-trafficking cases registered in {year}",
            )
        )
    for kind in ("women", "children"):
        rid = f"cn_rescued_{kind}_2011"
        value, conf = _figure(pub, rid)
        out.append(
            Target(
                f"rescued_{kind}_2011",
                "rescued",
                kind,
                value,
                conf,
                (rid,),
                year=2011,
                description=f"{kind} rescued in 2011",
            )
        )
    return tuple(out)


@dataclass(frozen=True)
class HoldOut:
    """A hold-out design: which figures the fit sees, and what it fixes.

    Parameters
    ----------
    name : str
    description : str
        What is held out, in a line.
    fitted : tuple of str
        Ids of the figures (:func:`china_figures`) fitted; every other figure is
        held out and predicted.
    fixed : mapping of str to float
        Fitted parameters (:data:`~tipresearch.fit.parameters.FITTED` keys) set to a
        stated value instead, because the fitted figures cannot pin them down.
    reason : str
        Why those values.
    """

    name: str
    description: str
    fitted: tuple[str, ...]
    fixed: Mapping[str, float] = field(default_factory=dict)
    reason: str = ""

    def parameters(self, parameters: Sequence[FitParameter] = FITTED) -> tuple[FitParameter, ...]:
        """The parameters this design fits: ``parameters`` less those it fixes.

        A fixed key must be one of :data:`~tipresearch.fit.parameters.FITTED`; it may be
        missing from ``parameters`` when the base fit already holds it fixed.
        """
        unknown = sorted(set(self.fixed) - {p.key for p in FITTED})
        if unknown:
            raise ParameterError(f"{self.name}.fixed", unknown[0], "a fitted parameter's key")
        return tuple(p for p in parameters if p.key not in self.fixed)

    def targets(self, figures: Sequence[Target]) -> tuple[Target, ...]:
        """The figures this design is fitted to."""
        ids = {f.id for f in figures}
        missing = sorted(set(self.fitted) - ids)
        if missing:
            raise ParameterError(f"{self.name}.fitted", missing[0], "a figure of china_figures()")
        return tuple(f for f in figures if f.id in self.fitted)


_TARGET_IDS: tuple[str, ...] = (
    "registered_2008",
    "registered_2009",
    "registered_2011",
    "registered_2020",
    "solved_women_2011",
    "solved_children_2011",
    "clearance_2008",
    "campaign_solved_women",
    "campaign_victims_per_solved_women",
    "campaign_solved_children",
    "campaign_victims_per_solved_children",
)
_CAMPAIGN = tuple(i for i in _TARGET_IDS if i.startswith("campaign"))
_Y2011 = ("registered_2011", "solved_women_2011", "solved_children_2011")

#: The hold-out designs, by name. ``full`` is the committed fit.
HOLDOUTS: dict[str, HoldOut] = {
    h.name: h
    for h in (
        HoldOut(
            "full", "the fit's eleven targets; predicts the other published figures", _TARGET_IDS
        ),
        HoldOut(
            "through_2009",
            "fitted to 2008-2009 only; predicts 2011, 2012 and 2020",
            tuple(i for i in _TARGET_IDS if i not in _Y2011 + ("registered_2020",)),
            {
                "dynamics.deterrence": 0.0,
                "dynamics.deterrence_floor": 0.05,
                "reforms.campaign_persist": 0.0,
            },
            "no figure before 2010 can show deterrence or what the 2009 campaign left "
            "behind: both are set to none (no deterrence, the campaign ends in December "
            "2009; the floor of deterrence, then idle, at its default 0.05)",
        ),
        HoldOut(
            "without_2011",
            "2011's registered and solved cases held out",
            tuple(i for i in _TARGET_IDS if i not in _Y2011),
        ),
        HoldOut(
            "without_2020",
            "2020's registered cases held out",
            tuple(i for i in _TARGET_IDS if i != "registered_2020"),
            {"dynamics.deterrence_floor": 0.05},
            "no other figure bears on the floor of deterrence, which sets the level of "
            "2016-2020: it is held at its default 0.05",
        ),
        HoldOut(
            "without_campaign",
            "the cable's campaign figures (¶8) held out",
            tuple(i for i in _TARGET_IDS if i not in _CAMPAIGN),
        ),
    )
}


def _fit_design(values: Mapping[str, Any], seed: int, settings: Mapping[str, Any]) -> dict:
    """Refit one hold-out design (runs on a sweep executor); returns the model's changes."""
    design = settings["holdouts"][values["design"]]
    base = ChinaModel().updated({**settings["base"], **design.fixed})
    figures = settings["figures"]
    result = fit(
        base,
        design.targets(figures),
        design.parameters(settings["parameters"]),
        seeds=settings["seeds"],
        screen=settings["screen"],
        screen_seed=settings["screen_seed"],
        starts=settings.get("starts", 1),
        generations=settings.get("generations", 0),
        max_evaluations=settings["max_evaluations"],
        jacobian=False,
    )
    changes = {**design.fixed, **expand(result.parameters, result.estimates)}
    return {
        **{f"change:{k}": float(v) for k, v in changes.items()},
        "objective": result.objective,
        "evaluations": float(result.evaluations),
    }


def fit_holdouts(
    full_changes: Mapping[str, Any],
    designs: Iterable[str] | None = None,
    *,
    base: Mapping[str, Any] | None = None,
    parameters: Sequence[FitParameter] = FITTED,
    seeds: Sequence[int] = (0, 1),
    screen: int = 32,
    screen_seed: int = 0,
    starts: int = 1,
    generations: int = 0,
    max_evaluations: int = 120,
    executor: str = "auto",
    workers: int | None = None,
) -> dict[str, dict[str, Any]]:
    """Refit each hold-out design; the changes to :class:`ChinaModel` of each.

    Parameters
    ----------
    full_changes : mapping
        The committed fit's changes (``FitResult.changes``): the ``full`` design.
    designs : iterable of str, optional
        Names in :data:`HOLDOUTS` (default: all).
    base : mapping, optional
        Changes of the base model every design starts from (values not fitted).
    parameters, seeds, screen, screen_seed, starts, generations, max_evaluations
        As for :func:`tipresearch.fit.fit`. Each design is searched from the
        package defaults (values fitted to none of the figures), never from the
        full fit's estimates, which have seen the figures the design holds out.
    executor, workers
        Sweep executors (:func:`tipresearch.experiments.run_points`): the designs
        are refitted in parallel.

    Returns
    -------
    dict of str to dict
        Changes by design (``full`` is ``full_changes``).

    Raises
    ------
    ParameterError
        For an unknown design, or a design whose refit failed.
    """
    names = list(HOLDOUTS) if designs is None else list(designs)
    unknown = [n for n in names if n not in HOLDOUTS]
    if unknown:
        raise ParameterError("design", unknown[0], f"one of {', '.join(HOLDOUTS)}")
    out: dict[str, dict[str, Any]] = {}
    todo = [n for n in names if n != "full"]
    if "full" in names:
        out["full"] = dict(full_changes)
    if todo:
        settings = {
            "holdouts": HOLDOUTS,
            "base": dict(base or {}),
            "figures": china_figures(),
            "parameters": tuple(parameters),
            "seeds": tuple(seeds),
            "screen": screen,
            "screen_seed": screen_seed,
            "starts": starts,
            "generations": generations,
            "max_evaluations": max_evaluations,
        }
        frame = run_points(
            _fit_design,
            [{"design": n} for n in todo],
            settings,
            executor=executor,
            workers=workers,
        )
        for _, row in frame.iterrows():
            if isinstance(row["error"], str):
                raise ParameterError(
                    "design", row["design"], f"a design that fits ({row['error']})"
                )
            changes = {
                k.removeprefix("change:"): float(v)
                for k, v in row.items()
                if k.startswith("change:") and pd.notna(v)
            }
            out[row["design"]] = {**dict(base or {}), **changes}
    return {n: out[n] for n in names}


def _predict_one(values: Mapping[str, Any], seed: int, settings: Mapping[str, Any]) -> dict:
    """The model's value of every figure for one design and one seed (an executor task)."""
    model = ChinaModel().updated(settings["changes"][values["design"]])
    figures = settings["figures"]
    moments = model_moments(model, figures, (int(values["sim_seed"]),))
    return {f.id: float(m) for f, m in zip(figures, moments, strict=True)}


def predict(
    changes: Mapping[str, Mapping[str, Any]],
    seeds: Sequence[int] = PREDICTION_SEEDS,
    *,
    figures: Sequence[Target] | None = None,
    executor: str = "auto",
    workers: int | None = None,
) -> pd.DataFrame:
    """Every figure's model value for each design and seed.

    Parameters
    ----------
    changes : mapping of str to mapping
        The fitted model of each design (:func:`fit_holdouts`).
    seeds : sequence of int
        Simulation seeds (default :data:`PREDICTION_SEEDS`, none of them a fit seed).
    figures : sequence of Target, optional
        Default :func:`china_figures`.

    Returns
    -------
    pandas.DataFrame
        ``design``, ``seed``, ``figure``, ``model``: one row per design, seed and
        figure.
    """
    figures = tuple(china_figures() if figures is None else figures)
    if not seeds:
        raise ParameterError("seeds", seeds, "at least one seed")
    points = [{"design": d, "sim_seed": int(s)} for d in changes for s in seeds]
    frame = run_points(
        _predict_one,
        points,
        {"changes": {k: dict(v) for k, v in changes.items()}, "figures": figures},
        executor=executor,
        workers=workers,
    )
    failed = frame[frame["error"].notna()] if "error" in frame else frame.iloc[:0]
    if len(failed):
        first = failed.iloc[0]
        raise ParameterError("design", first["design"], f"a model that runs ({first['error']})")
    frame = frame.drop(columns="seed").rename(columns={"sim_seed": "seed"})
    long = frame.melt(
        id_vars=["design", "seed"],
        value_vars=[f.id for f in figures],
        var_name="figure",
        value_name="model",
    )
    return long.sort_values(["design", "figure", "seed"], ignore_index=True)


def _relative_error(value: float, high: float | None, model: float) -> float:
    """(model - published) / published; for a range, the distance to its nearer end."""
    if high is None or not np.isfinite(high):
        return (model - value) / value
    if model < value:
        return (model - value) / value
    if model > high:
        return (model - high) / high
    return 0.0


def out_of_sample_table(
    predictions: pd.DataFrame,
    figures: Sequence[Target] | None = None,
    designs: Mapping[str, HoldOut] | None = None,
) -> pd.DataFrame:
    """Predicted against published for every design and figure, fitted or held out.

    Parameters
    ----------
    predictions : pandas.DataFrame
        From :func:`predict`.
    figures : sequence of Target, optional
        Default :func:`china_figures`.
    designs : mapping of str to HoldOut, optional
        Default :data:`HOLDOUTS`.

    Returns
    -------
    pandas.DataFrame
        One row per design and figure: ``design``, ``figure``, ``description``,
        ``role`` (``fitted``; ``implied`` for a figure computed from the same published
        rows as figures the design is fitted to, such as the 2009/2008 ratio of two
        fitted counts, which is no test out of sample; or ``held out``), ``published``,
        ``published_high`` (a range's upper end), ``model`` (mean over seeds),
        ``low_5``, ``high_95`` (the 5-95% band over seeds), ``relative_error`` (of
        the mean; 0 inside a published range), ``in_band`` (the published figure, or
        its range, meets the band), ``seeds``, ``confidence``, ``sources``.
    """
    figures = tuple(china_figures() if figures is None else figures)
    designs = HOLDOUTS if designs is None else designs
    need = {"design", "seed", "figure", "model"}
    if not isinstance(predictions, pd.DataFrame) or not need <= set(predictions.columns):
        raise ParameterError("predictions", type(predictions).__name__, f"a frame with {need}")
    by_id = {f.id: f for f in figures}
    rows = []
    stats = predictions.groupby(["design", "figure"], sort=False)["model"]
    summary = pd.DataFrame(
        {
            "model": stats.mean(),
            "low_5": stats.quantile(0.05),
            "high_95": stats.quantile(0.95),
            "seeds": stats.count(),
        }
    )
    for (design, fid), s in summary.iterrows():
        f = by_id.get(fid)
        if f is None or design not in designs:
            raise ParameterError("predictions", f"{design}/{fid}", "designs and figures known")
        high = f.value_high
        top = f.value if high is None else high
        fitted = designs[design].fitted
        if fid in fitted:
            role = "fitted"
        elif set(f.sources) <= {
            s
            for g in figures
            if g.id in fitted and g.confidence != "assumption"  # its rows only motivate it
            for s in g.sources
        }:
            role = "implied"
        else:
            role = "held out"
        rows.append(
            {
                "design": design,
                "figure": fid,
                "description": f.description,
                "role": role,
                "published": f.value,
                "published_high": high,
                "model": s["model"],
                "low_5": s["low_5"],
                "high_95": s["high_95"],
                "relative_error": _relative_error(f.value, high, s["model"]),
                "in_band": bool(s["low_5"] <= top and f.value <= s["high_95"]),
                "seeds": int(s["seeds"]),
                "confidence": f.confidence,
                "sources": ", ".join(f.sources),
            }
        )
    order = {n: i for i, n in enumerate(designs)}
    fig_order = {f.id: i for i, f in enumerate(figures)}
    out = pd.DataFrame(rows)
    out = out.sort_values(
        ["design", "figure"],
        key=lambda c: c.map(order) if c.name == "design" else c.map(fig_order),
        ignore_index=True,
    )
    return out
