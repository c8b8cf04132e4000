"""The project's data files: schemas, loaders, and the tables of published figures.

Reads ``data/`` (every file's provenance is in ``data/README.md``). This room imports
nothing of the package but the shared helpers at the bottom (:mod:`tipresearch.errors`,
:mod:`tipresearch.io`), so any other room may read data through it.
"""

from __future__ import annotations

from .loaders import (
    CABLE_FILE,
    CABLE_PARAGRAPHS,
    CABLE_RATIOS,
    CABLE_SCHEMA,
    CASE_TYPES,
    CONFIDENCE_LEVELS,
    DATA_DIR,
    QUALIFIERS,
    RATIO_COLUMNS,
    TIMELINE_FILE,
    TIMELINE_SCHEMA,
    RatioSpec,
    cable_ratios,
    cable_value,
    load_cable,
    load_reform_timeline,
    read_cable_paragraphs,
)
from .published import (
    PUBLISHED_DIR,
    PUBLISHED_SCHEMA,
    SOURCE_FILE,
    TABLES,
    build_published_tables,
    load_published,
    published_row,
    published_value,
)
from .reporting import (
    MAIN_OFFENCES,
    REPORTING_FILE,
    REPORTING_SCHEMA,
    REPORTING_SOURCE,
    build_reporting_table,
    load_reporting,
)
from .schema import (
    KINDS,
    PRECISIONS,
    Column,
    Kind,
    Schema,
    parse_iso_date,
    parse_iso_span,
)

__all__ = [
    "MAIN_OFFENCES",
    "REPORTING_FILE",
    "REPORTING_SCHEMA",
    "REPORTING_SOURCE",
    "build_reporting_table",
    "load_reporting",
    "CABLE_FILE",
    "CABLE_PARAGRAPHS",
    "CABLE_RATIOS",
    "CABLE_SCHEMA",
    "CASE_TYPES",
    "CONFIDENCE_LEVELS",
    "Column",
    "DATA_DIR",
    "KINDS",
    "Kind",
    "PRECISIONS",
    "PUBLISHED_DIR",
    "PUBLISHED_SCHEMA",
    "QUALIFIERS",
    "RATIO_COLUMNS",
    "RatioSpec",
    "SOURCE_FILE",
    "Schema",
    "TABLES",
    "TIMELINE_FILE",
    "TIMELINE_SCHEMA",
    "build_published_tables",
    "cable_ratios",
    "cable_value",
    "load_cable",
    "load_published",
    "load_reform_timeline",
    "parse_iso_date",
    "parse_iso_span",
    "published_row",
    "published_value",
    "read_cable_paragraphs",
]
