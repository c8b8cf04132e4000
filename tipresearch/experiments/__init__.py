"""Sweeps over the model's parameters and what is learned from them: parameter spaces and
designs, sweep specs, the model at one point, executors, the results folder, the sweep
itself, sensitivity indices and scenario discovery.

Builds on :mod:`tipresearch.model`; see ``docs/sweeps.md``.
"""

from __future__ import annotations

from .executors import (
    EXECUTORS,
    KEY_COLUMNS,
    TAIL_COLUMNS,
    Task,
    resolve_executor,
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
from .sensitivity import (
    INDEX_COLUMNS,
    MORRIS_COLUMNS,
    PrimResult,
    analyze,
    first_order_indices,
    morris_indices,
    prim,
    response_surface,
    scenario_discovery,
    sobol_indices,
)
from .space import (
    DISTRIBUTIONS,
    METHODS,
    Design,
    Parameter,
    ParameterSpace,
    check_keys,
    read_yaml,
    sample,
)
from .spec import (
    SweepSpec,
    load_spec,
)
from .store import (
    DESIGN,
    MANIFEST,
    PARTS,
)
from .sweep import (
    Sweep,
    SweepSummary,
    open_sweep,
    run_sweep,
    saved_or_run,
    scaled_spec,
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
    "run_task",
    "sample",
    "saved_or_run",
    "scaled_spec",
    "scenario_discovery",
    "sobol_indices",
]
