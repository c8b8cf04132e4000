"""Running the notebook collection: notebook parameters, the runner, the index page of a
run and the records of each notebook's key results.

What ``tipresearch run`` and ``tipresearch results`` call.
"""

from __future__ import annotations

from .index_page import (
    describe_notebook,
    summary_line,
    write_index,
)
from .params import (
    FIGURES_DIR,
    RESULTS_DIR,
    check_notebooks,
    check_type,
    inspect_parameters,
    load_parameter_file,
    parse_value,
    resolve_parameters,
)
from .records import (
    RECORD_FILE,
    gather_records,
    plain,
    results_by_run,
    write_record,
)
from .runner import (
    KERNEL_NAME,
    KERNEL_START_ATTEMPTS,
    RESULT_COLUMNS,
    RESULT_RECORD,
    default_notebooks,
    find_project_root,
    kernel_start_failed,
    run_notebooks,
    stalled,
)

__all__ = [
    "FIGURES_DIR",
    "KERNEL_NAME",
    "KERNEL_START_ATTEMPTS",
    "RECORD_FILE",
    "RESULTS_DIR",
    "RESULT_COLUMNS",
    "RESULT_RECORD",
    "check_notebooks",
    "check_type",
    "default_notebooks",
    "describe_notebook",
    "find_project_root",
    "gather_records",
    "results_by_run",
    "inspect_parameters",
    "kernel_start_failed",
    "stalled",
    "load_parameter_file",
    "parse_value",
    "plain",
    "resolve_parameters",
    "run_notebooks",
    "summary_line",
    "write_index",
    "write_record",
]
