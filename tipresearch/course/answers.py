"""Answer checks for the course's exercises: right, close or wrong, and why, without the answer.

Each ``check_*`` function takes a student's answer, works out the right one from the
model (never from a stored value), and returns a :class:`Verdict`: ``right``, ``close``
(on the way: a rounding, a neighbouring rule) or ``wrong``, with a message that says
what is off (too high, too low, which constraint fails) but not the answer itself. An
answer that is not given yet (``None``) gets ``not answered``; an answer of the wrong
kind gets ``wrong`` with what kind is expected, never an exception, so that a
student's notebook runs through.

The exercises are in ``notebooks/course/``; ``docs/teaching.md`` says what each teaches.
The model's formulas are in ``docs/model.md``.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from tipresearch.model import ModelParams, frontier, intake_curves, metric_table

__all__ = [
    "GLOSSARY",
    "READING_2009_CHOICES",
    "SERIES_STATEMENTS",
    "Verdict",
    "check_audit_for_half",
    "check_best_clearance",
    "check_capacity_for_intake",
    "check_children_intake",
    "check_dna_intake",
    "check_dark_figure",
    "check_reading_2009",
    "check_series_reading",
    "check_worst_rating",
    "course_panel_design",
]


@dataclass(frozen=True)
class Verdict:
    """What a check says: ``status`` is ``right``, ``close``, ``wrong`` or ``not answered``."""

    status: str
    message: str

    @property
    def right(self) -> bool:
        """True for a right answer."""
        return self.status == "right"

    def __str__(self) -> str:
        return f"{self.status.capitalize()}: {self.message}"

    def _repr_markdown_(self) -> str:
        mark = {"right": "✔", "close": "≈", "wrong": "✘"}.get(self.status, "…")
        return f"**{mark} {self.status.capitalize()}.** {self.message}"


def _number(answer: Any) -> float | None:
    if isinstance(answer, bool) or not isinstance(answer, numbers.Real):
        return None
    value = float(answer)
    return value if np.isfinite(value) else None


def _judge_number(
    answer: Any, truth: float, right: float, close: float, what: str, unit: str = ""
) -> Verdict:
    """Right within ``right``, close within ``close``, else wrong; a share may be a percent."""
    if answer is None:
        return Verdict("not answered", f"set your answer for {what} and run the cell again.")
    value = _number(answer)
    if value is None:
        return Verdict("wrong", f"{what} is a number{unit}; got {answer!r}.")
    if unit == " (a share between 0 and 1)" and 1 < value <= 100:
        return Verdict(
            "close", f"{what} is a share between 0 and 1; {value:g} looks like a percentage."
        )
    gap = value - truth
    if abs(gap) <= right:
        return Verdict("right", f"{what}: {value:g} is right.")
    direction = "too high" if gap > 0 else "too low"
    if abs(gap) <= close:
        return Verdict("close", f"{what}: {value:g} is close but a little {direction}.")
    return Verdict("wrong", f"{what}: {value:g} is {direction}.")


def _table(params: ModelParams | None, metrics: list[Any]):  # noqa: ANN202 - a frame
    return metric_table(ModelParams() if params is None else params, metrics)


def check_children_intake(answer: Any, params: ModelParams | None = None) -> Verdict:
    """Exercise 1: the share of children's reports opened under the clearance-rate rating.

    Right within 0.01 of the model's mean bureau (:func:`tipresearch.model.metric_table`),
    close within 0.05.
    """
    table = _table(params, ["clearance_rate"])
    truth = table.query("metric == 'clearance_rate' and case_type == 'children'")["intake_rate"]
    return _judge_number(
        answer,
        float(truth.iloc[0]),
        0.01,
        0.05,
        "the share of children's reports opened",
        " (a share between 0 and 1)",
    )


def check_worst_rating(answer: Any, params: ModelParams | None = None) -> Verdict:
    """Exercise 2: the preset rating that loses the most rescues against the planner."""
    from tipresearch.model import PRESETS

    if answer is None:
        return Verdict("not answered", "name a rating (one of the presets) and run again.")
    if not isinstance(answer, str) or answer not in PRESETS:
        return Verdict("wrong", f"name one of the presets: {', '.join(PRESETS)}; got {answer!r}.")
    table = _table(params, list(PRESETS))
    lost = table[(table["case_type"] == "all") & (table["metric"] != "planner")]
    lost = lost.set_index("metric")["rescues_lost_share"].sort_values(ascending=False)
    if answer == lost.index[0]:
        return Verdict("right", f"{answer} loses the most rescues of the presets.")
    if answer == lost.index[1]:
        return Verdict("close", f"{answer} loses many rescues, but one preset loses more.")
    rank = list(lost.index).index(answer) + 1
    return Verdict("wrong", f"{answer} is number {rank} of {len(lost)} by rescues lost.")


def check_audit_for_half(answer: Any, params: ModelParams | None = None) -> Verdict:
    """Exercise 3: the weakest audit at which a clearance-rate-rated bureau opens half its reports.

    The audit probability where the mean bureau's intake under ``clearance_rate`` first
    reaches 0.5 (:func:`tipresearch.model.intake_curves` on a grid of 0.0025);
    right within 0.01, close within 0.03.
    """
    params = ModelParams() if params is None else params
    grid = np.linspace(0.0, 0.5, 201)
    curve = intake_curves(params, ["clearance_rate"], grid)["intake_rate"].to_numpy()
    reached = np.flatnonzero(curve >= 0.5)
    if not len(reached):
        return Verdict("wrong", "no audit up to 0.5 gets half the reports opened here.")
    return _judge_number(
        answer,
        float(grid[reached[0]]),
        0.01,
        0.03,
        "the audit probability",
        " (a probability between 0 and 1)",
    )


#: Exercise 4's choices (key -> statement).
READING_2009_CHOICES: dict[str, str] = {
    "a": "Trafficking more than doubled from 2008 to 2009.",
    "b": "Registered cases cannot tell: the 2009 rule and campaign changed what was recorded.",
    "c": "The police solved more cases, so there must have been more crime.",
    "d": "Trafficking fell, since the police now registered cases they used to decline.",
}


def check_reading_2009(answer: Any) -> Verdict:
    """Exercise 4: what the jump in registered cases from 2008 to 2009 shows."""
    if answer is None:
        return Verdict("not answered", f"choose one of {', '.join(READING_2009_CHOICES)}.")
    if not isinstance(answer, str) or answer.strip().lower() not in READING_2009_CHOICES:
        return Verdict("wrong", f"choose one of {', '.join(READING_2009_CHOICES)}; got {answer!r}.")
    key = answer.strip().lower()
    reasons = {
        "a": "a registered count mixes crime with the police's choice to register it.",
        "b": "registered counts alone cannot separate crime from recording.",
        "c": "solved cases count the police's work, and they follow what is registered.",
        "d": "registering more says nothing by itself about how much crime there was.",
    }
    return Verdict("right" if key == "b" else "wrong", reasons[key])


def _best_clearance_within(loss: float, params: ModelParams | None = None) -> tuple[float, float]:
    """The highest clearance rate any common threshold reaches while losing at most ``loss``
    of the planner's rescues, and the rescues lost there (mean bureau, all types)."""
    params = ModelParams() if params is None else params
    planner = _table(params, ["solved_count"]).query("metric == 'planner' and case_type == 'all'")
    best = float(planner["victims_total"].iloc[0])
    f = (
        frontier(params, np.linspace(-0.3, 1.0, 651))
        .groupby("threshold")[["opened", "solved", "victims_total"]]
        .sum()
    )
    f = f[f["opened"] > 0]
    lost = 1 - f["victims_total"] / best
    ok = f[lost <= loss + 1e-12]
    clearance = ok["solved"] / ok["opened"]
    at = clearance.idxmax()
    return float(clearance.max()), float(lost.loc[at])


def check_best_clearance(answer: Any, params: ModelParams | None = None) -> Verdict:
    """Exercise 5: the highest clearance rate within 5% of the planner's rescues.

    (The best common threshold on :func:`tipresearch.model.frontier`.) Right within 0.01, close
    within 0.03. A clearance of 60% with no more than 5% of rescues lost is out of
    reach at the default parameters, which the exercise asks the student to find.
    """
    truth, _ = _best_clearance_within(0.05, params)
    return _judge_number(
        answer, truth, 0.01, 0.03, "the highest clearance rate", " (a share between 0 and 1)"
    )


def check_dna_intake(
    answer: Any, dna_effect: float = 0.3, params: ModelParams | None = None
) -> Verdict:
    """Exercise 6: children's intake under the solved-count rating with a DNA database.

    ``dna_effect`` is the children's ``dna_effect`` (a share of hard cases made
    solvable, ``docs/model.md``); right within 0.01, close within 0.05.
    """
    params = ModelParams() if params is None else params
    table = _table(params.updated({"children.dna_effect": dna_effect}), ["solved_count"])
    truth = table.query("metric == 'solved_count' and case_type == 'children'")["intake_rate"]
    return _judge_number(
        answer,
        float(truth.iloc[0]),
        0.01,
        0.05,
        "children's intake with the DNA database",
        " (a share between 0 and 1)",
    )


#: Exercise 7's statements about a recorded-crime series that rises after a reform.
SERIES_STATEMENTS: dict[str, str] = {
    "s1": "Recorded cases rose after the reform.",
    "s2": "Crime rose after the reform.",
    "s3": "The reform changed what the police record, or crime, or both.",
    "s4": "Without a measure of crime outside police records, the two cannot be told apart.",
    "s5": "The rise proves the reform failed to deter crime.",
}
# whether the recorded series alone supports each statement (not shown to students)
_SERIES_SUPPORTED = {"s1": True, "s2": False, "s3": True, "s4": True, "s5": False}


def check_series_reading(answer: Any) -> Verdict:
    """Exercise 7: which statements a rising recorded series supports (``{id: True/False}``)."""
    if answer is None:
        return Verdict("not answered", "give True or False for each statement id.")
    if not isinstance(answer, Mapping) or set(answer) != set(SERIES_STATEMENTS):
        return Verdict("wrong", f"give a dict with exactly the ids {sorted(SERIES_STATEMENTS)}.")
    if not all(isinstance(v, bool) for v in answer.values()):
        return Verdict("wrong", "every value must be True or False.")
    wrong = sum(answer[k] != ok for k, ok in _SERIES_SUPPORTED.items())
    if wrong == 0:
        return Verdict("right", "every statement judged as the series allows.")
    if wrong == 1:
        return Verdict("close", "one statement is judged wrongly.")
    return Verdict("wrong", f"{wrong} of {len(SERIES_STATEMENTS)} statements are judged wrongly.")


#: The glossary's terms and their meanings.
GLOSSARY: dict[str, str] = {
    "report": "A victim or family tells the police of a possible crime.",
    "intake": "The police open a report as a case (register it).",
    "clearance rate": "Cases solved as a share of cases opened.",
    "dark figure": "Crime that never enters police records.",
    "audit": "A check that finds reports the police declined.",
    "do not file what you cannot solve": "Declining reports that would lower the clearance rate.",
}


def check_dark_figure(answer: Any, seed: int = 1) -> Verdict:
    """Exercise 8: the share of incidents never recorded before the reform, from the survey.

    On the panel ``simulate_panel(PanelDesign(n_bureaus=60, months=24, first_adoption=6,
    last_adoption=15, waves=3), seed)`` (:mod:`tipresearch.estimation`): over the surveyed
    bureaus' months before their adoption, ``1 - recorded / (survey / survey_rate)``.
    Right within 0.01, close within 0.05.
    """
    from tipresearch.estimation import simulate_panel

    design = course_panel_design()
    panel = simulate_panel(design, seed)
    before = panel[panel["surveyed"] & (panel["reform"] == 0)]
    incidents = before["survey"].astype(float).sum() / design.survey_rate
    truth = 1 - before["recorded"].sum() / incidents
    return _judge_number(
        answer, float(truth), 0.01, 0.05, "the dark figure", " (a share between 0 and 1)"
    )


def course_panel_design():  # noqa: ANN201 - a PanelDesign
    """The small panel the course's exercises read (60 bureaus, 24 months, three waves)."""
    from tipresearch.estimation import PanelDesign

    return PanelDesign(n_bureaus=60, months=24, first_adoption=6, last_adoption=15, waves=3)


def check_capacity_for_intake(
    answer: Any, target: float = 0.9, params: ModelParams | None = None
) -> Verdict:
    """Exercise 9 (open): the least capacity per expected report at which a bureau rated on
    cases solved opens at least ``target`` of its reports (all types; a grid of 0.05 from
    0.05 to 5).

    Right within one grid step (0.05), close within 0.25.
    """
    params = ModelParams() if params is None else params
    grid = np.round(np.arange(0.05, 5.0001, 0.05), 10)
    for ratio in grid:
        table = _table(params.updated(capacity_ratio=float(ratio)), ["solved_count"])
        row = table.query("metric == 'solved_count' and case_type == 'all'")
        if float(row["intake_rate"].iloc[0]) >= target:
            return _judge_number(answer, float(ratio), 0.05 + 1e-9, 0.25, "the capacity ratio")
    return Verdict("wrong", f"no capacity up to 5 per report gets {target:.0%} opened here.")
