"""How bureaus and traffickers respond over time (``docs/model.md``, §3.3.11).

- Partial adjustment: thresholds move toward the current best response at a rate,
  so a reform's effect builds up over months.
- Learning by doing: experience with cases raises effective capacity,
  ``K_bt = K_b (1 + C_bt / scale)^beta`` with ``C_bt`` the cases the bureau has
  opened of that type so far (Wright's learning curve: the effort a case needs
  falls as a power of cumulative cases). This is how a campaign can leave
  routines behind (09BEIJING2594 ¶6).
- Deterrence: incidence responds to the chance a trafficker is caught,
  ``lambda_bt = lambda_b (pi_bt / pi_b0)^(-epsilon)``, where ``pi_bt`` is an
  exponentially weighted average of the bureau's expected share of reports solved
  (what traffickers can learn of the police's chances, free of month-to-month
  noise, so that a fixed policy leaves incidence unchanged) and ``pi_b0`` its
  value in the first period; the factor is kept within
  ``[deterrence_floor, deterrence_ceiling]`` (0.05 and 20 by default). The floor is
  an assumption no published figure gives: where the catch probability rises
  many times over, it, not ``epsilon``, sets how far incidence falls.
- Effort shared with the backlog (a switch, off by default): the cases still open
  from earlier months draw on the same investigators, so the capacity left for new
  cases shrinks as the backlog grows (:func:`shared_capacity`).

References
----------
``docs/model.md``, §3.3.11 "Partial adjustment, learning by doing and deterrence"
and §2.3-2.4 (adaptation, learning).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .params import _in_range

__all__ = ["Dynamics", "DynamicState", "shared_capacity"]


@dataclass(frozen=True)
class Dynamics:
    """Settings of the dynamics.

    Parameters
    ----------
    adjust_rate : float
        In (0, 1]: ``tau_t = tau_{t-1} + adjust_rate (tau*_t - tau_{t-1})``; 1 means
        every period at its best response.
    learning_rate : float
        ``beta >= 0``, the learning-curve exponent (0 = no learning).
    learning_scale : float
        Cases opened (per bureau and type) at which capacity has grown by ``2^beta`` (> 0).
    deterrence : float
        ``epsilon >= 0``, the elasticity of incidence to the catch probability.
    deterrence_memory : float
        Weight in (0, 1] of the latest period in the catch-probability average.
    deterrence_floor, deterrence_ceiling : float
        Bounds of the incidence factor ``(pi / pi_0)^(-epsilon)``:
        ``0 < floor <= 1 <= ceiling``. The floor is the lowest share of its first
        level that deterrence can bring incidence to.
    backlog_effort : float
        ``c >= 0`` (at most 10): effort an unsolved case in the backlog takes, as a
        share of a newly opened case's, in :func:`shared_capacity`. 0 (the default)
        leaves the capacity for new cases independent of the backlog.
    """

    adjust_rate: float = 1.0
    learning_rate: float = 0.0
    learning_scale: float = 100.0
    deterrence: float = 0.0
    deterrence_memory: float = 0.2
    deterrence_floor: float = 0.05
    deterrence_ceiling: float = 20.0
    backlog_effort: float = 0.0

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        set_(self, "adjust_rate", _in_range("adjust_rate", self.adjust_rate, 0, 1, lo_open=True))
        set_(self, "learning_rate", _in_range("learning_rate", self.learning_rate, 0, 5))
        set_(
            self,
            "learning_scale",
            _in_range("learning_scale", self.learning_scale, 0, lo_open=True),
        )
        set_(self, "deterrence", _in_range("deterrence", self.deterrence, 0, 10))
        set_(
            self,
            "deterrence_memory",
            _in_range("deterrence_memory", self.deterrence_memory, 0, 1, lo_open=True),
        )
        set_(
            self,
            "deterrence_floor",
            _in_range("deterrence_floor", self.deterrence_floor, 0, 1, lo_open=True),
        )
        set_(
            self,
            "deterrence_ceiling",
            _in_range("deterrence_ceiling", self.deterrence_ceiling, 1),
        )
        set_(self, "backlog_effort", _in_range("backlog_effort", self.backlog_effort, 0, 10))

    @property
    def has_feedback(self) -> bool:
        """True when outcomes feed back into later periods' reports or capacity."""
        return self.learning_rate > 0 or self.deterrence > 0 or self.backlog_effort > 0


def shared_capacity(
    capacity: np.ndarray, backlog: np.ndarray, effort_half: float, backlog_effort: float
) -> np.ndarray:
    """Capacity left for new cases when the backlog takes its share of effort.

    With ``K`` a bureau's capacity for a case type, ``B`` its backlog of unsolved
    cases, ``e`` the effort half-saturation (``effort_half``, the effort one case
    needs) and ``c`` the effort a backlog case takes relative to a new one
    (``backlog_effort``), effort is split between new cases and the backlog in
    proportion to ``K`` and ``e c B``:

        K_new = K * K / (K + e c B).

    So ``K_new = K`` when ``c B = 0``, and ``K_new`` falls toward 0 as the backlog
    grows; the effort factor of new cases becomes ``K_new / (K_new + e O)``
    (``docs/model.md``, §3.3.11). The backlog's own cold-case hazard is unchanged.

    Parameters
    ----------
    capacity, backlog : ndarray
        ``K`` and ``B``, broadcast together.
    effort_half, backlog_effort : float
        ``e > 0`` and ``c >= 0``.

    Returns
    -------
    ndarray
        ``K_new``; 0 where ``K`` is 0.
    """
    capacity = np.asarray(capacity, dtype=float)
    load = capacity + effort_half * backlog_effort * np.asarray(backlog, dtype=float)
    return np.divide(capacity * capacity, load, out=np.zeros(np.shape(load)), where=load > 0)


class DynamicState:
    """Per bureau and case type: cases opened so far and the catch-probability average."""

    def __init__(self, dynamics: Dynamics, shape: tuple[int, int]) -> None:
        self.dynamics = dynamics
        self.cumulative_opened = np.zeros(shape)
        self.catch: np.ndarray | None = None
        self.catch_reference: np.ndarray | None = None

    def capacity_factor(self) -> np.ndarray:
        """``(1 + C / scale)^beta``."""
        d = self.dynamics
        return (1.0 + self.cumulative_opened / d.learning_scale) ** d.learning_rate

    def incidence_factor(self) -> np.ndarray:
        """``(pi / pi_0)^(-epsilon)`` within the floor and ceiling; 1 before any observation."""
        d = self.dynamics
        if d.deterrence == 0 or self.catch is None:
            return np.ones_like(self.cumulative_opened)
        ref = self.catch_reference
        ratio = np.divide(self.catch, ref, out=np.ones_like(self.catch), where=ref > 0)
        with np.errstate(divide="ignore"):
            factor = np.where(ratio > 0, ratio ** (-d.deterrence), d.deterrence_ceiling)
        return np.clip(factor, d.deterrence_floor, d.deterrence_ceiling)

    def start(self, expected_catch: np.ndarray) -> None:
        """Set the reference catch probability from the first period's expectation."""
        self.catch = expected_catch.copy()
        self.catch_reference = expected_catch.copy()

    def update(self, opened: np.ndarray, expected_catch: np.ndarray) -> None:
        """Record one period: cases opened, and the expected share of reports solved."""
        self.cumulative_opened += opened
        if self.catch is None:
            self.start(expected_catch)
        else:
            w = self.dynamics.deterrence_memory
            self.catch = (1.0 - w) * self.catch + w * expected_catch
