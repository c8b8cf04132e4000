"""The training course: answer checks for its exercises, its two editions, and the explorer.

The course notebooks are in ``notebooks/course/``; ``docs/teaching.md`` is the
instructor's guide. :mod:`.answers` holds the ``check_*`` helpers that tell a student
whether an answer is right, close or wrong without giving it away.
"""

from .answers import (
    GLOSSARY,
    READING_2009_CHOICES,
    SERIES_STATEMENTS,
    Verdict,
    check_audit_for_half,
    check_best_clearance,
    check_capacity_for_intake,
    check_children_intake,
    check_dark_figure,
    check_dna_intake,
    check_reading_2009,
    check_series_reading,
    check_worst_rating,
    course_panel_design,
)

__all__ = [
    "GLOSSARY",
    "READING_2009_CHOICES",
    "SERIES_STATEMENTS",
    "Verdict",
    "check_audit_for_half",
    "check_best_clearance",
    "check_capacity_for_intake",
    "check_children_intake",
    "check_dark_figure",
    "check_dna_intake",
    "check_reading_2009",
    "check_series_reading",
    "check_worst_rating",
    "course_panel_design",
]
