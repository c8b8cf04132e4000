"""Parameter spaces as plain data, read from YAML.

A :class:`ParameterSpace` lists parameters by name, each a :class:`Parameter` with
bounds or choices and a distribution; it is plain data (``to_dict`` / ``from_dict``)
and is read from YAML with the safe loader (:func:`read_yaml`), so a spec file can
hold nothing but values. Unknown keys are refused with a message that names them
(:func:`check_keys`).

Each parameter maps unit coordinates to its values by its quantile function and back
by its distribution function, as SALib does for non-uniform inputs; the designs drawn
in the unit hypercube (:func:`tipresearch.experiments.design.sample`) use these maps.

References
----------
Herman, J., Usher, W. (2017). SALib: an open-source Python library for sensitivity
analysis. Journal of Open Source Software 2(9), 97.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from tipresearch.errors import ParameterError

__all__ = [
    "DISTRIBUTIONS",
    "Parameter",
    "ParameterSpace",
    "check_keys",
    "read_yaml",
]

#: Distributions a parameter can have.
DISTRIBUTIONS = ("uniform", "loguniform", "triangular", "normal", "integer", "choice")

_PARAMETER_KEYS = ("dist", "bounds", "choices", "mode", "mean", "sd", "values", "levels", "label")
# unit coordinates are kept inside (0, 1) for quantile functions with infinite ends
_EPS = 1e-12


# --------------------------------------------------------------------------- YAML


def read_yaml(path: str | os.PathLike, what: str = "spec") -> dict[str, Any]:
    """Read a YAML file holding a mapping, with the safe loader.

    Parameters
    ----------
    path : path-like
        The file.
    what : str
        What the file is, for error messages (``spec``, ``space``).

    Returns
    -------
    dict
        The mapping (an empty file gives ``{}``).

    Raises
    ------
    ParameterError
        When the file is missing, is not valid YAML or does not hold a mapping.
    """
    import yaml

    path = Path(path)
    allowed = f"a YAML file holding a mapping (the {what})"
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ParameterError(what, str(path), f"{allowed}; {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise ParameterError(
            what, str(path), f"{allowed}, in UTF-8 (byte {exc.start} is not UTF-8)"
        ) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or type(exc).__name__
        raise ParameterError(what, str(path), f"{allowed}; YAML error{where}: {problem}") from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ParameterError(what, str(path), f"{allowed}; it holds a {type(data).__name__}")
    return data


def check_keys(where: str, given: Mapping[str, Any], known: Iterable[str]) -> None:
    """Refuse keys of ``given`` that are not in ``known``, naming them all.

    Raises
    ------
    ParameterError
        ``parameter '<where>' = ['bad', 'keys'] is not allowed: known keys: ...``.
    """
    if not isinstance(given, Mapping):
        raise ParameterError(where, given, f"a mapping with keys among {', '.join(known)}")
    known = tuple(known)
    unknown = [k for k in given if k not in known]
    if unknown:
        raise ParameterError(
            where,
            unknown,
            f"known keys only; unknown: {', '.join(map(str, unknown))}; known: {', '.join(known)}",
        )


# --------------------------------------------------------------------------- parameters


def _real(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ParameterError(name, value, "a finite number")
    return float(value)


@dataclass(frozen=True)
class Parameter:
    """One dimension of a parameter space.

    Parameters
    ----------
    name : str
        The name the model knows it by (``audit_prob``, ``children.dna_effect``,
        ``metric.rate``, ``periods``).
    dist : str
        One of :data:`DISTRIBUTIONS`. ``uniform``, ``loguniform`` and ``integer``
        need ``bounds``; ``triangular`` needs ``bounds`` and ``mode``; ``normal``
        needs ``mean`` and ``sd`` and is truncated to ``bounds`` when they are
        given; ``choice`` needs ``choices`` (and is implied by them).
    bounds : (float, float), optional
        Lower and upper bound, lower < upper (> 0 for ``loguniform``).
    choices : tuple, optional
        Values of a discrete parameter (all strings or all numbers, distinct),
        taken with equal probability.
    mode : float, optional
        Peak of a triangular distribution, within the bounds.
    mean, sd : float, optional
        Mean and standard deviation (> 0) of a normal distribution.
    values : tuple of float, optional
        Explicit values for a grid design (within the bounds).
    levels : int, optional
        Number of evenly spaced grid values (>= 2; geometric for ``loguniform``),
        overriding the design's ``levels``.
    label : str, optional
        Label for figures, with units (``audit probability (per declined report)``).
    """

    name: str
    dist: str = "uniform"
    bounds: tuple[float, float] | None = None
    choices: tuple[Any, ...] | None = None
    mode: float | None = None
    mean: float | None = None
    sd: float | None = None
    values: tuple[float, ...] | None = None
    levels: int | None = None
    label: str | None = None

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        if not isinstance(self.name, str) or not self.name.strip():
            raise ParameterError("parameter name", self.name, "a non-empty string")
        where = f"parameters.{self.name}"
        if self.choices is not None and self.dist == "uniform":
            set_(self, "dist", "choice")
        if self.dist not in DISTRIBUTIONS:
            raise ParameterError(f"{where}.dist", self.dist, f"one of {', '.join(DISTRIBUTIONS)}")
        if self.bounds is not None:
            b = self.bounds
            if isinstance(b, str | bytes) or not isinstance(b, Sequence) or len(b) != 2:
                raise ParameterError(f"{where}.bounds", b, "a list [lower, upper]")
            lo, hi = (_real(f"{where}.bounds", v) for v in b)
            if not lo < hi:
                raise ParameterError(f"{where}.bounds", list(b), "lower < upper")
            set_(self, "bounds", (lo, hi))
        for key in ("mode", "mean", "sd"):
            if getattr(self, key) is not None:
                set_(self, key, _real(f"{where}.{key}", getattr(self, key)))
        needs_bounds = self.dist in ("uniform", "loguniform", "integer", "triangular")
        if needs_bounds and self.bounds is None:
            raise ParameterError(f"{where}.bounds", None, f"[lower, upper] for dist {self.dist}")
        if self.dist == "loguniform" and self.bounds[0] <= 0:
            raise ParameterError(f"{where}.bounds", list(self.bounds), "bounds > 0 (loguniform)")
        if self.dist == "integer":
            if any(v != int(v) for v in self.bounds):
                raise ParameterError(f"{where}.bounds", list(self.bounds), "whole numbers")
            set_(self, "bounds", (int(self.bounds[0]), int(self.bounds[1])))
        if self.dist == "triangular":
            if self.mode is None or not self.bounds[0] <= self.mode <= self.bounds[1]:
                raise ParameterError(
                    f"{where}.mode", self.mode, f"a number in [{self.bounds[0]}, {self.bounds[1]}]"
                )
        if self.dist == "normal":
            if self.mean is None:
                raise ParameterError(f"{where}.mean", None, "a number (dist normal)")
            if self.sd is None or self.sd <= 0:
                raise ParameterError(f"{where}.sd", self.sd, "a number > 0 (dist normal)")
        if self.dist == "choice":
            self._check_choices(where)
        elif self.choices is not None:
            raise ParameterError(f"{where}.choices", list(self.choices), "choices with dist choice")
        if self.values is not None:
            if self.dist == "choice":
                raise ParameterError(f"{where}.values", self.values, "no values (use choices)")
            vals = self.values
            if isinstance(vals, str | bytes) or not isinstance(vals, Sequence) or not vals:
                raise ParameterError(f"{where}.values", vals, "a non-empty list of numbers")
            vals = tuple(_real(f"{where}.values", v) for v in vals)
            if self.bounds is not None and any(
                not self.bounds[0] <= v <= self.bounds[1] for v in vals
            ):
                raise ParameterError(
                    f"{where}.values", list(vals), f"values within the bounds {list(self.bounds)}"
                )
            set_(self, "values", vals)
        if self.levels is not None:
            lv = self.levels
            if isinstance(lv, bool) or not isinstance(lv, int) or lv < 2:
                raise ParameterError(f"{where}.levels", lv, "a whole number >= 2")
        if self.label is not None and not isinstance(self.label, str):
            raise ParameterError(f"{where}.label", self.label, "a string")

    def _check_choices(self, where: str) -> None:
        c = self.choices
        if c is None or isinstance(c, str | bytes) or not isinstance(c, Sequence) or not c:
            raise ParameterError(f"{where}.choices", c, "a non-empty list of values")
        c = tuple(c)
        kinds = {
            "bool"
            if isinstance(v, bool)
            else "number"
            if isinstance(v, int | float)
            else "str"
            if isinstance(v, str)
            else "other"
            for v in c
        }
        if "other" in kinds or len(kinds) != 1:
            raise ParameterError(
                f"{where}.choices", list(c), "all strings, all numbers or all booleans"
            )
        if len(set(c)) != len(c):
            raise ParameterError(f"{where}.choices", list(c), "distinct values")
        object.__setattr__(self, "choices", c)

    # -- mapping ----------------------------------------------------------------
    @property
    def is_discrete(self) -> bool:
        """True for ``choice`` and ``integer`` parameters."""
        return self.dist in ("choice", "integer")

    @property
    def display(self) -> str:
        """The label, or the name when there is no label."""
        return self.label or self.name

    def from_unit(self, u: np.ndarray) -> np.ndarray:
        """Map unit coordinates in [0, 1] to values by the quantile function.

        A ``choice`` parameter with ``k`` choices takes choice ``floor(u k)`` (the
        last for ``u = 1``); an ``integer`` one on ``[lo, hi]`` takes
        ``lo + floor(u (hi - lo + 1))``, capped at ``hi``.
        """
        from scipy import stats

        u = np.asarray(u, dtype=float)
        if self.dist == "choice":
            idx = np.minimum((u * len(self.choices)).astype(int), len(self.choices) - 1)
            return np.asarray(self.choices, dtype=object)[idx]
        lo, hi = self.bounds if self.bounds is not None else (-np.inf, np.inf)
        if self.dist == "uniform":
            return lo + u * (hi - lo)
        if self.dist == "loguniform":
            return np.exp(np.log(lo) + u * (np.log(hi) - np.log(lo)))
        if self.dist == "integer":
            span = int(hi - lo) + 1
            return (lo + np.minimum(np.floor(u * span), span - 1)).astype(np.int64)
        if self.dist == "triangular":
            c = (self.mode - lo) / (hi - lo)
            return stats.triang.ppf(u, c, loc=lo, scale=hi - lo)
        # normal, truncated to the bounds when given
        uc = np.clip(u, _EPS, 1.0 - _EPS)
        if self.bounds is None:
            return stats.norm.ppf(uc, loc=self.mean, scale=self.sd)
        a, b = (lo - self.mean) / self.sd, (hi - self.mean) / self.sd
        return stats.truncnorm.ppf(u, a, b, loc=self.mean, scale=self.sd)

    def grid_size(self, levels: int) -> int:
        """Number of values :meth:`grid` gives, worked out without making them."""
        n = self.levels or levels
        if self.dist == "choice":
            return len(self.choices)
        if self.values is not None:
            return len(self.values)
        if self.dist == "integer":
            lo, hi = (int(v) for v in self.bounds)
            return min(hi - lo + 1, n)
        return n

    def grid(self, levels: int) -> tuple[list[Any], np.ndarray]:
        """Grid values and their unit coordinates.

        ``choices`` for a choice parameter; ``values`` when given; every whole
        number of an ``integer`` range when it has at most ``levels`` of them;
        otherwise ``levels`` evenly spaced values across the bounds (geometric for
        ``loguniform``; for ``normal`` without bounds, quantiles 0.05 to 0.95).
        """
        n = self.levels or levels
        if self.dist == "choice":
            k = len(self.choices)
            return list(self.choices), (np.arange(k) + 0.5) / k
        if self.values is not None:
            vals = np.asarray(self.values, dtype=float)
        elif self.dist == "integer":
            lo, hi = (int(v) for v in self.bounds)
            if hi - lo + 1 <= n:
                vals = np.arange(lo, hi + 1)
            else:
                vals = np.unique(np.round(np.linspace(lo, hi, n)))
            return [int(v) for v in vals], (vals - lo + 0.5) / (hi - lo + 1)
        elif self.dist == "loguniform":
            vals = np.geomspace(*self.bounds, n)
        elif self.bounds is not None:
            vals = np.linspace(*self.bounds, n)
        else:
            vals = self.from_unit(np.linspace(0.05, 0.95, n))
        return [float(v) for v in vals], self.to_unit(vals)

    def to_unit(self, values: np.ndarray) -> np.ndarray:
        """Unit coordinates of numeric values (the distribution function)."""
        from scipy import stats

        x = np.asarray(values, dtype=float)
        lo, hi = self.bounds if self.bounds is not None else (-np.inf, np.inf)
        if self.dist in ("uniform", "integer"):
            return (x - lo) / (hi - lo)
        if self.dist == "loguniform":
            return (np.log(x) - np.log(lo)) / (np.log(hi) - np.log(lo))
        if self.dist == "triangular":
            return stats.triang.cdf(x, (self.mode - lo) / (hi - lo), loc=lo, scale=hi - lo)
        if self.bounds is None:
            return stats.norm.cdf(x, loc=self.mean, scale=self.sd)
        a, b = (lo - self.mean) / self.sd, (hi - self.mean) / self.sd
        return stats.truncnorm.cdf(x, a, b, loc=self.mean, scale=self.sd)

    def extremes(self) -> list[Any]:
        """Values that bracket the parameter's range: bounds, or every choice."""
        if self.dist == "choice":
            return list(self.choices)
        if self.bounds is not None:
            lo, hi = self.bounds
            return [int(lo), int(hi)] if self.dist == "integer" else [lo, hi]
        return [float(v) for v in self.from_unit(np.array([_EPS, 0.5, 1 - _EPS]))]

    # -- plain data -------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """The parameter as plain data (the entry under its name in a spec)."""
        out: dict[str, Any] = {"dist": self.dist}
        for key in _PARAMETER_KEYS[1:]:
            v = getattr(self, key)
            if v is not None:
                out[key] = list(v) if isinstance(v, tuple) else v
        return out

    @classmethod
    def from_dict(cls, name: str, data: Mapping[str, Any] | Sequence[Any]) -> Parameter:
        """Build from a spec entry: a mapping of :data:`_PARAMETER_KEYS`, or a bare
        ``[lower, upper]`` list for a uniform parameter.

        Raises
        ------
        ParameterError
            For unknown keys (named in the message) or bad values.
        """
        if isinstance(data, Sequence) and not isinstance(data, str | bytes):
            return cls(str(name), bounds=tuple(data))
        check_keys(f"parameters.{name}", data, _PARAMETER_KEYS)
        kw = dict(data)
        for key in ("bounds", "choices", "values"):
            if key in kw and isinstance(kw[key], list):
                kw[key] = tuple(kw[key])
        return cls(str(name), **kw)


# --------------------------------------------------------------------------- space


@dataclass(frozen=True)
class ParameterSpace:
    """An ordered set of :class:`Parameter` with distinct names.

    Examples
    --------
    >>> space = ParameterSpace.from_dict({
    ...     "audit_prob": {"bounds": [0.0, 0.4]},
    ...     "metric.rate": [0.0, 0.5],
    ...     "metric": {"choices": ["solved_count", "clearance_rate"]},
    ... })
    >>> space.names
    ('audit_prob', 'metric.rate', 'metric')
    """

    parameters: tuple[Parameter, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        params = tuple(self.parameters)
        if not params or not all(isinstance(p, Parameter) for p in params):
            raise ParameterError("parameters", self.parameters, "one or more parameters")
        names = [p.name for p in params]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ParameterError("parameters", dup, "distinct parameter names")
        object.__setattr__(self, "parameters", params)

    @property
    def names(self) -> tuple[str, ...]:
        """Parameter names, in order."""
        return tuple(p.name for p in self.parameters)

    def __len__(self) -> int:
        return len(self.parameters)

    def __getitem__(self, name: str) -> Parameter:
        for p in self.parameters:
            if p.name == name:
                return p
        raise ParameterError("parameter", name, f"one of {', '.join(self.names)}")

    def labels(self) -> dict[str, str]:
        """``{name: label}`` for figures."""
        return {p.name: p.display for p in self.parameters}

    def problem(self) -> dict[str, Any]:
        """The SALib problem in unit coordinates (every bound ``[0, 1]``)."""
        return {
            "num_vars": len(self.parameters),
            "names": list(self.names),
            "bounds": [[0.0, 1.0]] * len(self.parameters),
        }

    def from_unit(self, unit: np.ndarray) -> pd.DataFrame:
        """Values of unit-coordinate rows, one column per parameter."""
        unit = np.atleast_2d(np.asarray(unit, dtype=float))
        if unit.shape[1] != len(self):
            raise ParameterError("unit", unit.shape, f"an array with {len(self)} columns")
        return pd.DataFrame(
            {p.name: p.from_unit(unit[:, j]) for j, p in enumerate(self.parameters)}
        )

    def to_dict(self) -> dict[str, dict[str, Any]]:
        """``{name: entry}``: what :meth:`from_dict` reads."""
        return {p.name: p.to_dict() for p in self.parameters}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ParameterSpace:
        """Build from ``{name: entry}`` (see :meth:`Parameter.from_dict`)."""
        if not isinstance(data, Mapping) or not data:
            raise ParameterError("parameters", data, "a mapping {name: {bounds: [lo, hi]}, ...}")
        return cls(tuple(Parameter.from_dict(str(k), v) for k, v in data.items()))

    @classmethod
    def from_yaml(cls, path: str | os.PathLike) -> ParameterSpace:
        """Read a space from YAML: a file whose only key is ``parameters``."""
        data = read_yaml(path, "space")
        check_keys(f"space file {path}", data, ("parameters",))
        return cls.from_dict(data.get("parameters") or {})
