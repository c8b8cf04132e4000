"""Sweep specs: a sweep as plain data, read from YAML.

A :class:`SweepSpec` holds a parameter space, a design method and its options, the
model settings (:class:`~tipresearch.experiments.point.ModelSettings`), the number of
replications and one root seed; :func:`load_spec` reads one from a YAML file. The
design of a spec is drawn by :func:`tipresearch.experiments.design.sample`, the same for the
same spec; a few designs at a time are kept in memory, so drawing one again is free.
:func:`scaled_spec` makes a smaller (or larger) version of a sweep, as notebooks run.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tipresearch.errors import ParameterError

from .design import Design, sample
from .point import ModelSettings, _whole
from .space import ParameterSpace, check_keys, read_yaml

__all__ = ["SweepSpec", "load_spec", "scaled_spec"]


@dataclass(frozen=True)
class SweepSpec:
    """A sweep as plain data.

    Parameters
    ----------
    space : ParameterSpace
        The parameters that vary.
    method : {"grid", "lhs", "sobol", "morris"}
        Design (see :func:`tipresearch.experiments.design.sample`).
    n : int, optional
        Points (lhs), base samples (sobol) or trajectories (morris).
    design_seed : int
        Seed of the design sampler.
    second_order, num_levels, levels
        Options of the sobol, morris and grid designs.
    replications : int
        Runs per point (>= 1), each with its own seed.
    seed : int
        Root seed of the runs (>= 0).
    common_seeds : bool
        Give every point of a replication the same seed (common random numbers).
    model : ModelSettings
        Base model and run settings.
    name, description : str
        For people; not part of the sweep's identity.
    batch_size : int, optional
        Points per task (not part of the identity; default chosen from the size).

    Examples
    --------
    A YAML spec::

        name: quick_grid
        parameters:
          metric.rate: {bounds: [0.0, 0.5]}
          audit_prob: {bounds: [0.0, 0.4]}
        design: {method: grid, levels: 5}
        model: {metric: clearance_rate, periods: 24, params: {n_bureaus: 20}}
        replications: 2
        seed: 7
    """

    space: ParameterSpace
    method: str = "sobol"
    n: int | None = None
    design_seed: int = 0
    second_order: bool = False
    num_levels: int = 4
    levels: int = 5
    replications: int = 1
    seed: int = 0
    common_seeds: bool = False
    model: ModelSettings = field(default_factory=ModelSettings)
    name: str = "sweep"
    description: str = ""
    batch_size: int | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.space, ParameterSpace):
            raise ParameterError("parameters", self.space, "a ParameterSpace")
        _whole("replications", self.replications, 1)
        _whole("seed", self.seed, 0)
        if not isinstance(self.common_seeds, bool):
            raise ParameterError("common_seeds", self.common_seeds, "true or false")
        if self.batch_size is not None:
            _whole("batch_size", self.batch_size, 1)
        if not isinstance(self.model, ModelSettings):
            raise ParameterError("model", self.model, "a ModelSettings")
        if not isinstance(self.name, str) or not self.name:
            raise ParameterError("name", self.name, "a non-empty string")
        self.design()  # checks the design options

    def design(self) -> Design:
        """Draw the design (the same for the same spec)."""
        return _cached_design(self)

    def design_options(self) -> dict[str, Any]:
        """The ``design`` entry: method and the options that method uses."""
        out: dict[str, Any] = {"method": self.method}
        if self.method == "grid":
            out["levels"] = self.levels
        else:
            out.update(n=self.n, seed=self.design_seed)
        if self.method == "sobol":
            out["second_order"] = self.second_order
        if self.method == "morris":
            out["num_levels"] = self.num_levels
        return out

    def to_dict(self) -> dict[str, Any]:
        """Plain data, as in a YAML spec."""
        out: dict[str, Any] = {
            "name": self.name,
            "description": self.description,
            "parameters": self.space.to_dict(),
            "design": self.design_options(),
            "model": self.model.to_dict(),
            "replications": self.replications,
            "seed": self.seed,
            "common_seeds": self.common_seeds,
        }
        if self.batch_size is not None:
            out["batch_size"] = self.batch_size
        return out

    def identity(self) -> dict[str, Any]:
        """What makes two sweeps the same: everything but name, description, batch size."""
        d = self.to_dict()
        for key in ("name", "description", "batch_size"):
            d.pop(key, None)
        return d

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SweepSpec:
        """Build from plain data; unknown keys at any level are refused by name."""
        top = (
            "name",
            "description",
            "parameters",
            "design",
            "model",
            "replications",
            "seed",
            "common_seeds",
            "batch_size",
        )
        check_keys("spec", data, top)
        if "parameters" not in data:
            raise ParameterError("parameters", None, "a mapping of the parameters that vary")
        design = dict(data.get("design") or {})
        check_keys(
            "design", design, ("method", "n", "seed", "second_order", "num_levels", "levels")
        )
        kw: dict[str, Any] = {
            "space": ParameterSpace.from_dict(data["parameters"]),
            "model": ModelSettings.from_dict(data.get("model")),
        }
        renames = {"seed": "design_seed"}
        for key, value in design.items():
            kw[renames.get(key, key)] = value
        for key in ("name", "description", "replications", "seed", "common_seeds", "batch_size"):
            if key in data:
                kw[key] = data[key]
        return cls(**kw)


_DESIGNS: dict[str, Design] = {}


def _cached_design(spec: SweepSpec) -> Design:
    key = json.dumps({"p": spec.space.to_dict(), "d": spec.design_options()}, sort_keys=True)
    if key not in _DESIGNS:
        opts = spec.design_options()
        method = opts.pop("method")
        seed = opts.pop("seed", 0)
        n = opts.pop("n", None)
        if len(_DESIGNS) > 8:
            _DESIGNS.clear()
        _DESIGNS[key] = sample(spec.space, method, n, seed=seed, **opts)
    return _DESIGNS[key]


def load_spec(path: str | os.PathLike) -> SweepSpec:
    """Read a sweep spec from YAML (safe loader); a missing ``name`` is the file's stem."""
    data = read_yaml(path, "spec")
    data.setdefault("name", Path(path).stem)
    return SweepSpec.from_dict(data)


def scaled_spec(
    spec: SweepSpec | str | os.PathLike,
    *,
    n: int | None = None,
    levels: int | None = None,
    periods: int | None = None,
    n_bureaus: int | None = None,
    replications: int | None = None,
) -> SweepSpec:
    """A smaller (or larger) version of a sweep: same parameters, other sizes.

    Parameters
    ----------
    spec : SweepSpec or path-like
    n : int, optional
        Points, base samples or trajectories of the design.
    levels : int, optional
        Grid values per parameter (replaces the parameters' own ``levels``).
    periods, n_bureaus : int, optional
        Run length and number of bureaus of the model.
    replications : int, optional
        Runs per point.
    """
    if not isinstance(spec, SweepSpec):
        spec = load_spec(spec)
    changes: dict[str, Any] = {}
    if n is not None:
        changes["n"] = n
    if levels is not None:
        levels = _whole("levels", levels, 2)
        params = tuple(
            dataclasses.replace(p, levels=levels) if p.levels is not None else p
            for p in spec.space.parameters
        )
        changes.update(levels=levels, space=ParameterSpace(params))
    if replications is not None:
        changes["replications"] = replications
    model = spec.model
    if periods is not None:
        model = dataclasses.replace(model, periods=periods)
    if n_bureaus is not None:
        model = dataclasses.replace(model, params={**model.params, "n_bureaus": n_bureaus})
    return dataclasses.replace(spec, model=model, **changes)
