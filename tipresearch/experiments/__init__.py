"""Sweeps over the model's parameters and what is learned from them.

Modules, from the bottom up: :mod:`~tipresearch.experiments.space` (parameter spaces,
read from YAML), :mod:`~tipresearch.experiments.design` (designs drawn from them),
:mod:`~tipresearch.experiments.point` (the model at one point),
:mod:`~tipresearch.experiments.spec` (sweep specs), :mod:`~tipresearch.experiments.executors`
(tasks and where they run), :mod:`~tipresearch.experiments.store` (the results folder's
files), :mod:`~tipresearch.experiments.results` (a sweep opened for reading),
:mod:`~tipresearch.experiments.sweep` (running a sweep),
:mod:`~tipresearch.experiments.sensitivity` (sensitivity indices) and
:mod:`~tipresearch.experiments.discovery` (scenario discovery with the EMA Workbench's
PRIM).

Builds on :mod:`tipresearch.model`; see ``docs/sweeps.md``.
"""

from __future__ import annotations

from .design import (
    METHODS,
    Design,
    sample,
)
from .discovery import (
    PrimResult,
    prim,
    scenario_discovery,
)
from .executors import (
    EXECUTORS,
    KEY_COLUMNS,
    TAIL_COLUMNS,
    Task,
    resolve_executor,
    run_points,
    run_task,
)
from .point import (
    OUTPUTS,
    RUN_SETTINGS,
    ModelSettings,
    build_point,
    check_levers,
    model_point,
    point_outputs,
    point_seed,
)
from .results import (
    Sweep,
    open_sweep,
)
from .sensitivity import (
    INDEX_COLUMNS,
    MORRIS_COLUMNS,
    analyze,
    first_order_indices,
    morris_indices,
    response_surface,
    sobol_indices,
)
from .space import (
    DISTRIBUTIONS,
    Parameter,
    ParameterSpace,
    check_keys,
    read_yaml,
)
from .spec import (
    SweepSpec,
    load_spec,
    scaled_spec,
)
from .store import (
    DESIGN,
    MANIFEST,
    PARTS,
)
from .sweep import (
    SweepSummary,
    run_sweep,
    saved_or_run,
)

__all__ = [
    "DESIGN",
    "DISTRIBUTIONS",
    "Design",
    "EXECUTORS",
    "INDEX_COLUMNS",
    "KEY_COLUMNS",
    "MANIFEST",
    "METHODS",
    "MORRIS_COLUMNS",
    "ModelSettings",
    "OUTPUTS",
    "PARTS",
    "Parameter",
    "ParameterSpace",
    "PrimResult",
    "RUN_SETTINGS",
    "Sweep",
    "SweepSpec",
    "SweepSummary",
    "TAIL_COLUMNS",
    "Task",
    "analyze",
    "build_point",
    "check_keys",
    "check_levers",
    "first_order_indices",
    "load_spec",
    "model_point",
    "morris_indices",
    "open_sweep",
    "point_outputs",
    "point_seed",
    "prim",
    "read_yaml",
    "resolve_executor",
    "response_surface",
    "run_sweep",
    "run_points",
    "run_task",
    "sample",
    "saved_or_run",
    "scaled_spec",
    "scenario_discovery",
    "sobol_indices",
]
