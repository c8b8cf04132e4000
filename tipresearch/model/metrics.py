"""Performance metrics as data: weights over a period's outcomes.

A metric scores a bureau's period (``docs/model.md``, §2.2 "Objectives")::

    score = solved S + opened O + rate (S / O) N + victims R
            - unsolved (O - S) - penalty_weight q P (N - O) - cost_weight c O
            + bonus N 1[S / O >= target] - quota_penalty max(quota N - S, 0)

where the victims ``R`` include those expected later from the backlog, and
with ``N`` the bureau's expected reports of the type, ``O`` opened, ``S``
solved, ``R`` victims rescued, ``q`` the audit probability and ``P`` the
penalty per declined report found, ``c`` the handling cost. The rate term and the
target bonus are scaled by ``N`` so that they weigh the same for small and large
bureaus. 09BEIJING2594 ¶9: local security officials are rated chiefly by cases
solved, not cases opened.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

from tipresearch.errors import ParameterError

__all__ = ["Metric", "PRESETS", "PLANNER", "get_metric", "metric_names"]


#: The weights of a :class:`Metric` (every field but its name and target).
_WEIGHTS = (
    "solved",
    "opened",
    "rate",
    "victims",
    "unsolved",
    "bonus",
    "quota",
    "quota_penalty",
    "penalty_weight",
    "cost_weight",
)
#: The weights that may not be negative.
_NON_NEGATIVE = ("penalty_weight", "cost_weight", "bonus", "quota", "quota_penalty")


@dataclass(frozen=True)
class Metric:
    """Weights of one performance metric.

    Parameters
    ----------
    name : str
        Label used in outputs.
    solved, opened, rate, victims, unsolved : float
        Weights on solved cases, opened cases, the clearance rate (times expected
        reports), victims rescued, and opened cases left unsolved (a cost when > 0).
    target : float or None
        Clearance rate in (0, 1] at which ``bonus`` is paid (the threshold form).
    bonus : float
        Bonus per expected report when the clearance rate reaches ``target``.
    quota : float
        Solved cases required per expected report (>= 0): a solved-count quota.
    quota_penalty : float
        Penalty per solved case short of the quota (>= 0).
    penalty_weight : float
        Weight on the audit penalty for declined reports found (1 for a bureau's
        rating; 0 for the planner, for whom the penalty is a transfer).
    cost_weight : float
        Weight on the real cost of handling opened cases.
    """

    name: str
    solved: float = 0.0
    opened: float = 0.0
    rate: float = 0.0
    victims: float = 0.0
    unsolved: float = 0.0
    target: float | None = None
    bonus: float = 0.0
    quota: float = 0.0
    quota_penalty: float = 0.0
    penalty_weight: float = 1.0
    cost_weight: float = 1.0

    def __post_init__(self) -> None:
        self._check(_WEIGHTS)

    def _check(self, names: tuple[str, ...] | dict[str, Any]) -> None:
        """Check (and store as floats) the weights ``names``, then the target."""
        for f in _WEIGHTS:
            if f in names:
                v = getattr(self, f)
                if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
                    raise ParameterError(f"metric.{f}", v, "a finite number")
                object.__setattr__(self, f, float(v))
        for f in _NON_NEGATIVE:
            if f in names and getattr(self, f) < 0:
                raise ParameterError(f"metric.{f}", getattr(self, f), "a number >= 0")
        if self.target is not None:
            t = self.target
            if isinstance(t, bool) or not isinstance(t, int | float) or not 0 < t <= 1:
                raise ParameterError("metric.target", t, "a clearance rate in (0, 1], or None")
            object.__setattr__(self, "target", float(t))
        if self.bonus > 0 and self.target is None:
            raise ParameterError("metric.target", None, "a clearance rate in (0, 1] when bonus > 0")

    def weighted(self, **weights: Any) -> Metric:
        """A copy with some weights (or the target) changed, checked as when it is made.

        The same metric as ``dataclasses.replace(self, **weights)``, without checking the
        weights that did not change again.

        Raises
        ------
        ParameterError
            For an unknown weight, or a value the metric does not allow.
        """
        for f, v in weights.items():
            if f not in _WEIGHTS and f != "target":
                raise ParameterError(
                    f"metric.{f}", v, f"a weight among {', '.join(_WEIGHTS)}, or target"
                )
        new = object.__new__(type(self))
        new.__dict__.update(self.__dict__)
        new.__dict__.update(weights)
        new._check(weights)
        return new

    def to_dict(self) -> dict[str, Any]:
        """The weights as a plain dict."""
        return asdict(self)


#: Named presets. ``clearance_rate`` carries a solved-count weight and a quota
#: (5 solved cases per 100 expected reports) beside the rate, as real rate-based
#: ratings sit beside a solved-count quota; without them the best threshold would
#: open only the surest case (tests check that its best threshold is interior).
PRESETS: dict[str, Metric] = {
    "solved_count": Metric("solved_count", solved=1.0),
    "clearance_rate": Metric(
        "clearance_rate", solved=1.0, rate=0.2, quota=0.05, quota_penalty=50.0
    ),
    "opened_count": Metric("opened_count", opened=1.0),
    "balanced": Metric("balanced", solved=1.0, opened=0.5),
    "clearance_target": Metric("clearance_target", solved=1.0, target=0.6, bonus=0.5),
}

#: The social planner: values victims rescued and recorded cases (a recorded
#: case keeps the family in the system and can be solved later), pays the real
#: cost of effort, and treats audit penalties as transfers.
PLANNER = Metric("planner", victims=1.0, opened=0.05, penalty_weight=0.0)


def metric_names() -> tuple[str, ...]:
    """Names accepted by :func:`get_metric`."""
    return (*PRESETS, PLANNER.name)


def get_metric(metric: str | Metric | dict[str, Any]) -> Metric:
    """Return a :class:`Metric` from a preset name, a Metric, or a dict of weights.

    Raises
    ------
    ParameterError
        For an unknown name (the message lists the known ones) or unknown weights.
    """
    if isinstance(metric, Metric):
        return metric
    if isinstance(metric, str):
        if metric in PRESETS:
            return PRESETS[metric]
        if metric == PLANNER.name:
            return PLANNER
        raise ParameterError("metric", metric, f"one of {', '.join(metric_names())}")
    if isinstance(metric, dict):
        known = set(Metric.__dataclass_fields__)
        unknown = sorted(set(metric) - known)
        if unknown:
            raise ParameterError(
                f"metric.{unknown[0]}", metric[unknown[0]], f"a weight among {sorted(known)}"
            )
        return Metric(**{"name": "custom", **metric})
    raise ParameterError("metric", metric, "a preset name, a Metric or a dict of weights")
