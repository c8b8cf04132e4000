"""Parameter spaces as plain data, read from YAML, and the designs sampled from them.

A :class:`ParameterSpace` lists parameters by name, each with bounds or choices
and a distribution; it is plain data (``to_dict`` / ``from_dict``) and is read
from YAML with the safe loader, so a spec file can hold nothing but values.
Unknown keys are refused with a message that names them.

Designs are drawn in the unit hypercube and mapped to each parameter's values by
its quantile function, as SALib does for non-uniform inputs: a full grid, a Latin
hypercube, Saltelli's extension of the Sobol' sequence (for Sobol' indices) and
Morris trajectories (for elementary effects). The unit coordinates are kept with
the values, because the Sobol' and Morris analyses work on them.

References
----------
Saltelli, A. (2002). Making best use of model evaluations to compute sensitivity
indices. Computer Physics Communications 145, 280-297.
Morris, M. D. (1991). Factorial sampling plans for preliminary computational
experiments. Technometrics 33, 161-174.
McKay, M. D., Beckman, R. J., Conover, W. J. (1979). A comparison of three methods
for selecting values of input variables. Technometrics 21, 239-245.
Herman, J., Usher, W. (2017). SALib: an open-source Python library for sensitivity
analysis. Journal of Open Source Software 2(9), 97.
"""

from __future__ import annotations

import itertools
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
    "METHODS",
    "Design",
    "Parameter",
    "ParameterSpace",
    "check_keys",
    "read_yaml",
    "sample",
]

#: Distributions a parameter can have.
DISTRIBUTIONS = ("uniform", "loguniform", "triangular", "normal", "integer", "choice")
#: Design methods accepted by :func:`sample`.
METHODS = ("grid", "lhs", "sobol", "morris")

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
            whole = np.arange(lo, hi + 1)
            vals = whole if whole.size <= n else np.unique(np.round(np.linspace(lo, hi, n)))
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


# --------------------------------------------------------------------------- designs


@dataclass(frozen=True)
class Design:
    """Points of a parameter space to evaluate.

    Attributes
    ----------
    space : ParameterSpace
    method : str
        One of :data:`METHODS`.
    unit : ndarray, shape (n_points, n_parameters)
        Unit coordinates (what the Sobol' and Morris analyses read).
    values : pandas.DataFrame
        Parameter values, one row per point, one column per parameter.
    options : dict
        The sampling options (``n``, ``seed``, ``second_order``, ``num_levels``,
        ``levels``), enough to draw the same design again.
    """

    space: ParameterSpace
    method: str
    unit: np.ndarray
    values: pd.DataFrame
    options: dict[str, Any]

    def __len__(self) -> int:
        return int(self.unit.shape[0])

    def point(self, i: int) -> dict[str, Any]:
        """Values of point ``i`` as plain Python scalars."""
        row = self.values.iloc[i]
        return {k: (v.item() if isinstance(v, np.generic) else v) for k, v in row.items()}


def _whole(name: str, value: Any, lo: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < lo:
        raise ParameterError(name, value, f"a whole number >= {lo}")
    return int(value)


def sample(
    space: ParameterSpace,
    method: str,
    n: int | None = None,
    *,
    seed: int = 0,
    second_order: bool = False,
    num_levels: int = 4,
    levels: int = 5,
) -> Design:
    """Draw a design from a parameter space.

    Parameters
    ----------
    space : ParameterSpace
    method : {"grid", "lhs", "sobol", "morris"}
        ``grid``: every combination of each parameter's grid values
        (:meth:`Parameter.grid`); ``lhs``: ``n`` points of a Latin hypercube;
        ``sobol``: Saltelli's scheme with ``n`` base samples, ``n (D + 2)`` points
        (``n (2D + 2)`` with ``second_order``), ``n`` best a power of 2;
        ``morris``: ``n`` trajectories of ``D + 1`` points on ``num_levels`` levels.
    n : int, optional
        Number of points (lhs), base samples (sobol) or trajectories (morris);
        not used by ``grid``.
    seed : int
        Seed of the sampler (>= 0): scrambling of the Sobol' sequence, the Latin
        hypercube's permutations, the Morris starting points.
    second_order : bool
        Sobol' only: add the points needed for second-order indices.
    num_levels : int
        Morris only: levels of the grid the trajectories move on (even, >= 2).
    levels : int
        Grid only: values per continuous parameter (>= 2) unless it sets its own.

    Returns
    -------
    Design

    References
    ----------
    SALib's ``sample.sobol``, ``sample.latin`` and ``sample.morris`` (Herman and
    Usher 2017), applied in unit coordinates.
    """
    if not isinstance(space, ParameterSpace):
        raise ParameterError("space", space, "a ParameterSpace")
    if method not in METHODS:
        raise ParameterError("design.method", method, f"one of {', '.join(METHODS)}")
    seed = _whole("design.seed", seed, 0)
    options: dict[str, Any] = {"n": n, "seed": seed}
    problem = space.problem()
    if method == "grid":
        levels = _whole("design.levels", levels, 2)
        axes = [p.grid(levels) for p in space.parameters]
        index = np.array(list(itertools.product(*(range(len(v)) for v, _ in axes))), dtype=int)
        unit = np.column_stack([axes[j][1][index[:, j]] for j in range(len(axes))])
        values = pd.DataFrame(
            {
                p.name: np.asarray(axes[j][0], dtype=object if p.dist == "choice" else None)[
                    index[:, j]
                ]
                for j, p in enumerate(space.parameters)
            }
        )
        options = {"levels": levels}
        return Design(space, method, unit.astype(float), values, options)
    n = _whole("design.n", n, 1 if method != "sobol" else 2)
    options["n"] = n
    if method == "lhs":
        from SALib.sample import latin

        unit = latin.sample(problem, n, seed=seed)
    elif method == "sobol":
        import warnings

        from SALib.sample import sobol

        if not isinstance(second_order, bool):
            raise ParameterError("design.second_order", second_order, "true or false")
        options["second_order"] = second_order
        with warnings.catch_warnings():
            # SALib warns when n is not a power of 2; the design stays valid
            warnings.simplefilter("ignore", UserWarning)
            unit = sobol.sample(problem, n, calc_second_order=second_order, seed=seed)
    else:
        from SALib.sample import morris

        num_levels = _whole("design.num_levels", num_levels, 2)
        if num_levels % 2:
            raise ParameterError("design.num_levels", num_levels, "an even whole number >= 2")
        options["num_levels"] = num_levels
        unit = morris.sample(problem, n, num_levels=num_levels, seed=seed)
    unit = np.clip(np.asarray(unit, dtype=float), 0.0, 1.0)
    return Design(space, method, unit, space.from_unit(unit), options)
