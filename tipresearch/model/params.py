"""Model parameters as validated, immutable objects.

The mechanism is the one documented in ``docs/model.md``: bureaus receive
reports of several case types, each report has a latent solvability drawn from a
Beta distribution, the bureau opens a report when its (noisy) solvability clears
the bureau's threshold, effort is diluted over the open cases, and declined
reports may be found by an audit that costs the bureau a penalty.

Every value is checked when the object is made; a bad value raises
:class:`tipresearch.errors.ParameterError` naming the parameter, the value and the
allowed range. Objects are frozen: :meth:`ModelParams.updated` returns a copy.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from tipresearch.errors import ParameterError

__all__ = ["CaseType", "ModelParams", "default_case_types", "parse_assignment"]


#: Largest expected reports per bureau and period: far above any bureau, and small
#: enough that a lognormal bureau 20 standard deviations out stays within the range of
#: the Poisson draws (below 2**63).
MAX_REPORTS_MEAN = 1e9


def _number(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ParameterError(name, value, "a number")
    value = float(value)
    if math.isnan(value):
        raise ParameterError(name, value, "a number (not NaN)")
    if math.isinf(value):
        raise ParameterError(name, value, "a finite number")
    return value


def _in_range(
    name: str,
    value: Any,
    lo: float = -math.inf,
    hi: float = math.inf,
    *,
    lo_open: bool = False,
    hi_open: bool = False,
) -> float:
    """Return ``value`` as a float if it lies in the interval, else raise ParameterError."""
    x = _number(name, value)
    below = x <= lo if lo_open else x < lo
    above = x >= hi if hi_open else x > hi
    if below or above:
        if math.isinf(hi):
            allowed = f"a number {'>' if lo_open else '>='} {lo:g}"
        else:
            left = "(" if lo_open else "["
            right = ")" if hi_open else "]"
            allowed = f"a number in {left}{lo:g}, {hi:g}{right}"
        raise ParameterError(name, value, allowed)
    return x


def _whole(name: str, value: Any, lo: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value):
        raise ParameterError(name, value, f"a whole number >= {lo}")
    if value < lo:
        raise ParameterError(name, value, f"a whole number >= {lo}")
    return int(value)


@dataclass(frozen=True)
class CaseType:
    """One kind of report (for example missing women, or missing children).

    Parameters
    ----------
    name : str
        Identifier, used in outputs and in ``--set NAME.field=value``.
    beta_a, beta_b : float
        Shapes of the Beta distribution of latent solvability ``s`` (both > 0):
        the chance that standard effort solves the case (``docs/model.md``,
        §3.3.2 "Solvability and the DNA database").
    share : float
        Share of a bureau's reports that are of this type, in (0, 1]. The shares
        of all types sum to 1.
    victims_per_solved : float
        Mean number of victims rescued per solved case, >= 1: one plus a Poisson
        count (``docs/model.md``, §3.3.7 "Victims and the backlog").
        09BEIJING2594 ¶8 gives about 1.89 for women
        (2,291 / 1,214) and 1.24 for children (1,460 / 1,174).
    dna_effect : float
        ``delta`` in [0, 1): a DNA database raises solvability to
        ``delta + (1 - delta) s`` (``docs/model.md``, §3.3.2 "Solvability and the
        DNA database"; 09BEIJING2594 ¶7).
    backlog_hazard : float
        Per-period probability, in [0, 1], that an opened but unsolved case in the
        backlog is solved later (cold cases; ``docs/model.md``, §3.3.7 "Victims
        and the backlog").
    audit_prob, audit_penalty : float or None
        Audit probability and penalty for declined reports of this type, or None
        to use the model-wide values: mandatory intake for missing children alone
        (9 April 2009) is a strong audit on the children's type only.
    recall_prob : float
        Per-period probability, in [0, 1], that a declined report still in the
        stock of declined-but-solvable reports is brought back, registered and
        solved (``docs/model.md``, §3.3.10 "Backlog update" and "Recall of
        declined reports"; 09BEIJING2594 ¶7). 0 (the default) switches recall
        off: declined reports are never recorded.
    """

    name: str
    beta_a: float
    beta_b: float
    share: float = 0.5
    victims_per_solved: float = 1.5
    dna_effect: float = 0.0
    backlog_hazard: float = 0.0
    audit_prob: float | None = None
    audit_penalty: float | None = None
    recall_prob: float = 0.0

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.isidentifier():
            raise ParameterError("case_type.name", self.name, "an identifier such as 'women'")
        p = f"{self.name}."
        for name, check in _TYPE_CHECKS.items():
            object.__setattr__(self, name, check(p, getattr(self, name)))

    def _with(self, changes: Mapping[str, Any]) -> CaseType:
        """A copy with the fields in ``changes`` set, each checked as ``__post_init__``
        checks it (the other fields were checked when this one was made)."""
        new = object.__new__(type(self))
        new.__dict__.update(self.__dict__)
        p = f"{self.name}."
        for name, check in _TYPE_CHECKS.items():
            if name in changes:
                object.__setattr__(new, name, check(p, changes[name]))
        return new

    @property
    def mean_solvability(self) -> float:
        """E[s'] = delta + (1 - delta) a / (a + b)."""
        m = self.beta_a / (self.beta_a + self.beta_b)
        return self.dna_effect + (1.0 - self.dna_effect) * m


def _optional(check: Callable[[str, Any], float]) -> Callable[[str, Any], float | None]:
    return lambda p, v: None if v is None else check(p, v)


#: Each field of :class:`CaseType` but its name, and its check (``p`` is ``"TYPE."``), in
#: the order they are checked.
_TYPE_CHECKS: dict[str, Callable[[str, Any], Any]] = {
    "beta_a": lambda p, v: _in_range(p + "beta_a", v, 0, lo_open=True),
    "beta_b": lambda p, v: _in_range(p + "beta_b", v, 0, lo_open=True),
    "share": lambda p, v: _in_range(p + "share", v, 0, 1, lo_open=True),
    "victims_per_solved": lambda p, v: _in_range(p + "victims_per_solved", v, 1),
    "dna_effect": lambda p, v: _in_range(p + "dna_effect", v, 0, 1, hi_open=True),
    "backlog_hazard": lambda p, v: _in_range(p + "backlog_hazard", v, 0, 1),
    "audit_prob": _optional(lambda p, v: _in_range(p + "audit_prob", v, 0, 1)),
    "audit_penalty": _optional(lambda p, v: _in_range(p + "audit_penalty", v, 0)),
    "recall_prob": lambda p, v: _in_range(p + "recall_prob", v, 0, 1),
}


def default_case_types() -> tuple[CaseType, ...]:
    """The two default case types with illustrative solvability (``docs/model.md``, §3.2).

    Women's cases are easier on average (Beta(2, 2), mean 0.5) than children's
    (Beta(1, 3), mean 0.25); victims per solved case are the cable's ¶8 ratios
    rounded to two decimals.
    """
    return (
        CaseType("women", 2.0, 2.0, share=0.5, victims_per_solved=1.89, backlog_hazard=0.01),
        CaseType("children", 1.0, 3.0, share=0.5, victims_per_solved=1.24, backlog_hazard=0.005),
    )


def _checked_types(case_types: Any) -> tuple[CaseType, ...]:
    """``case_types`` as a tuple, checked: one or more, distinct names, shares sum to 1."""
    types = tuple(case_types)
    if not types or not all(isinstance(c, CaseType) for c in types):
        raise ParameterError("case_types", case_types, "one or more CaseType objects")
    names = [c.name for c in types]
    if len(set(names)) != len(names):
        raise ParameterError("case_types", names, "case types with distinct names")
    total = sum(c.share for c in types)
    if abs(total - 1.0) > 1e-9:
        raise ParameterError("case_types.share", [c.share for c in types], "shares that sum to 1")
    return types


#: Each top-level field of :class:`ModelParams` but the case types, and its check, in
#: the order they are checked.
_TOP_CHECKS: dict[str, Callable[[Any], Any]] = {
    "n_bureaus": lambda v: _whole("n_bureaus", v),
    # at most MAX_REPORTS_MEAN: far above any bureau, and within the Poisson draws' range
    "reports_mean": lambda v: _in_range("reports_mean", v, 0, MAX_REPORTS_MEAN, lo_open=True),
    "reports_sigma": lambda v: _in_range("reports_sigma", v, 0, 5),
    "dispersion": lambda v: _in_range("dispersion", v, 0),
    "capacity_ratio": lambda v: _in_range("capacity_ratio", v, 0, lo_open=True),
    "capacity_sigma": lambda v: _in_range("capacity_sigma", v, 0, 5),
    "effort_half": lambda v: _in_range("effort_half", v, 0, lo_open=True),
    "screening_noise": lambda v: _in_range("screening_noise", v, 0, 1),
    "audit_prob": lambda v: _in_range("audit_prob", v, 0, 1),
    "audit_penalty": lambda v: _in_range("audit_penalty", v, 0),
    "handling_cost": lambda v: _in_range("handling_cost", v, 0),
    "backlog_attrition": lambda v: _in_range("backlog_attrition", v, 0, 1),
}


@dataclass(frozen=True)
class ModelParams:
    """All parameters of the intake model.

    Parameters
    ----------
    case_types : tuple of CaseType
        At least one; names unique; shares sum to 1.
    n_bureaus : int
        Number of bureaus ``B`` (>= 1).
    reports_mean : float
        Mean expected reports per bureau and period, all types together (> 0).
    reports_sigma : float
        Standard deviation of log expected reports across bureaus (>= 0): bureau
        ``b`` expects ``reports_mean * exp(sigma Z_b - sigma^2 / 2)`` reports.
    dispersion : float
        Over-dispersion of report counts (>= 0): 0 gives Poisson counts, larger
        values a negative binomial with variance ``mu + dispersion mu^2``.
    capacity_ratio : float
        Investigative capacity in effort units per expected report (> 0): bureau
        ``b`` has ``K_b = capacity_ratio * lambda_b`` (times a lognormal factor).
    capacity_sigma : float
        Standard deviation of the log of that factor (>= 0).
    effort_half : float
        Effort per case at which the solve probability reaches half of ``s'``:
        ``h(e) = e / (e + effort_half)`` (> 0; ``docs/model.md``, §3.3.6
        "Dilution of effort").
    screening_noise : float
        ``sigma`` >= 0: a report is opened when ``s' + sigma z >= tau``.
    audit_prob : float
        ``q`` in [0, 1]: chance a declined report is found by an audit or complaint.
    audit_penalty : float
        Penalty to the bureau's score per declined report found (>= 0).
    handling_cost : float
        Cost of effort per opened case (>= 0), in the same units as a solved case.
    backlog_attrition : float
        Per-period probability, in [0, 1], that an unsolved case leaves the backlog
        for good (closed as cold).
    """

    case_types: tuple[CaseType, ...] = field(default_factory=default_case_types)
    n_bureaus: int = 100
    reports_mean: float = 50.0
    reports_sigma: float = 0.5
    dispersion: float = 0.0
    capacity_ratio: float = 0.2
    capacity_sigma: float = 0.0
    effort_half: float = 0.25
    screening_noise: float = 0.05
    audit_prob: float = 0.05
    audit_penalty: float = 0.5
    handling_cost: float = 0.05
    backlog_attrition: float = 0.05

    def __post_init__(self) -> None:
        object.__setattr__(self, "case_types", _checked_types(self.case_types))
        for name, check in _TOP_CHECKS.items():
            object.__setattr__(self, name, check(getattr(self, name)))

    # -- access -----------------------------------------------------------------
    @property
    def type_names(self) -> tuple[str, ...]:
        """Names of the case types, in order."""
        return tuple(c.name for c in self.case_types)

    def case_type(self, name: str) -> CaseType:
        """The case type called ``name``."""
        for c in self.case_types:
            if c.name == name:
                return c
        raise ParameterError("case_type", name, f"one of {', '.join(self.type_names)}")

    @classmethod
    def settable(cls) -> tuple[str, ...]:
        """Names accepted by :meth:`updated` (type fields as ``TYPE.field``)."""
        top = [f.name for f in dataclasses.fields(cls) if f.name != "case_types"]
        per_type = [f"TYPE.{f.name}" for f in dataclasses.fields(CaseType) if f.name != "name"]
        return tuple(top + per_type)

    def audit(self, case_type: CaseType) -> tuple[float, float]:
        """Audit probability and penalty for declined reports of ``case_type``."""
        q = self.audit_prob if case_type.audit_prob is None else case_type.audit_prob
        pen = self.audit_penalty if case_type.audit_penalty is None else case_type.audit_penalty
        return q, pen

    # -- changes ----------------------------------------------------------------
    def updated(self, changes: Mapping[str, Any] | None = None, **kw: Any) -> ModelParams:
        """Return a copy with some values changed.

        Parameters
        ----------
        changes : mapping, optional
            ``{"audit_prob": 0.5, "children.dna_effect": 0.2}``. A case-type field
            is written ``TYPE.field``; ``case_types.TYPE.field`` is accepted too.
        **kw
            More top-level changes.

        Raises
        ------
        ParameterError
            For an unknown name (the message lists the known ones) or a bad value.
        """
        merged = dict(changes or {})
        merged.update(kw)
        top: dict[str, Any] = {}
        per_type: dict[str, dict[str, Any]] = {}
        type_fields, top_fields = _TYPE_CHECKS, _TOP_CHECKS
        for key, value in merged.items():
            parts = key.split(".")
            if parts[0] == "case_types" and len(parts) == 3:
                parts = parts[1:]
            if len(parts) == 1 and parts[0] in top_fields:
                top[parts[0]] = value
            elif len(parts) == 2 and parts[0] in self.type_names and parts[1] in type_fields:
                per_type.setdefault(parts[0], {})[parts[1]] = value
            else:
                known = ", ".join(
                    sorted(top_fields)
                    + [f"{t}.{f}" for t in self.type_names for f in sorted(type_fields)]
                )
                raise ParameterError(key, value, f"a known parameter name: {known}")
        # a copy with only the changed fields checked: the others were checked when
        # this object was made (the same checks, from the same tables, as __post_init__)
        new = object.__new__(type(self))
        new.__dict__.update(self.__dict__)
        if per_type:
            types = tuple(
                c._with(per_type[c.name]) if c.name in per_type else c for c in self.case_types
            )
            object.__setattr__(new, "case_types", _checked_types(types))
        for name, check in _TOP_CHECKS.items():
            if name in top:
                object.__setattr__(new, name, check(top[name]))
        return new

    def to_dict(self) -> dict[str, Any]:
        """Plain, flat values: top-level fields and ``TYPE.field`` entries."""
        out: dict[str, Any] = {
            f.name: getattr(self, f.name)
            for f in dataclasses.fields(self)
            if f.name != "case_types"
        }
        for c in self.case_types:
            for f in dataclasses.fields(c):
                if f.name != "name":
                    out[f"{c.name}.{f.name}"] = getattr(c, f.name)
        return out


_FLOAT = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?")


def parse_assignment(text: str) -> tuple[str, Any]:
    """Parse ``key=value`` from the command line; the value as YAML (numbers, booleans).

    Raises
    ------
    ParameterError
        If there is no ``=`` or the key is empty.
    """
    import yaml

    if "=" not in text:
        raise ParameterError("--set", text, "KEY=VALUE, for example audit_prob=0.3")
    key, _, raw = text.partition("=")
    key = key.strip()
    if not key:
        raise ParameterError("--set", text, "KEY=VALUE with a non-empty KEY")
    try:
        value = yaml.safe_load(raw)
    except yaml.YAMLError:
        value = raw
    if isinstance(value, str) and _FLOAT.fullmatch(value.strip()):
        value = float(value)  # YAML 1.1 reads 1.0e12 and 1e5 as text
    return key, value
