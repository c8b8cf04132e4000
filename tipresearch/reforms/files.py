"""Reform files: reforms read from YAML or from plain data.

:func:`load_reforms` reads a YAML file holding one key, ``reforms``, a list of
reforms with the keys of :class:`~tipresearch.reforms.reform.Reform`
(:data:`REFORM_KEYS`); :func:`reforms_from_dict` builds the reforms from the data
as read. Errors name the file, the entry and the key at fault.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from tipresearch.errors import ParameterError

from .reform import Reform

__all__ = ["REFORM_KEYS", "load_reforms", "reforms_from_dict"]

#: Keys a reform may have in a YAML file.
REFORM_KEYS: tuple[str, ...] = (
    "name",
    "start",
    "end",
    "params",
    "metric",
    "persist",
    "priority",
    "source",
)


def reforms_from_dict(data: Any, prefix: str = "") -> list[Reform]:
    """Build reforms from plain data: ``{"reforms": [{"name": ..., "start": ...}, ...]}``.

    Parameters
    ----------
    data : mapping
        As read from YAML.
    prefix : str
        Put before the key in error messages (the file name).

    Raises
    ------
    ParameterError
        Naming the entry and key that is missing, unknown or not allowed
        (``reforms[1].start``).
    """
    if not isinstance(data, Mapping) or set(data) != {"reforms"}:
        keys = sorted(map(str, data)) if isinstance(data, Mapping) else type(data).__name__
        raise ParameterError(f"{prefix}top level", keys, "a mapping with the single key 'reforms'")
    entries = data["reforms"]
    if not isinstance(entries, list) or not entries:
        raise ParameterError(f"{prefix}reforms", entries, "a non-empty list of reforms")
    out = []
    for i, entry in enumerate(entries):
        here = f"{prefix}reforms[{i}]"
        if not isinstance(entry, Mapping):
            raise ParameterError(here, entry, "a mapping with keys " + ", ".join(REFORM_KEYS))
        for key in entry:
            if key not in REFORM_KEYS:
                raise ParameterError(
                    f"{here}.{key}", entry[key], f"a reform key among {', '.join(REFORM_KEYS)}"
                )
        for key in ("name", "start"):
            if entry.get(key) is None:
                raise ParameterError(f"{here}.{key}", None, "a value (the key is required)")
        if not entry.get("params") and not entry.get("metric"):
            raise ParameterError(
                f"{here}.params", None, "at least one change under 'params' or 'metric'"
            )
        kwargs = dict(entry)
        kwargs["params"] = kwargs.get("params") or {}
        kwargs["metric"] = kwargs.get("metric") or {}
        try:
            out.append(Reform(**kwargs))
        except ParameterError as exc:
            name = exc.name.replace(f"reform '{entry['name']}'", here)
            raise ParameterError(name, exc.value, exc.allowed) from None
    return out


def load_reforms(path: str | os.PathLike) -> list[Reform]:
    """Read reforms from a YAML file (safe loader).

    The file holds one key, ``reforms``, a list of reforms with the keys of
    :class:`Reform` (:data:`REFORM_KEYS`)::

        reforms:
          - name: provincial_dna_drive
            start: 2012-03
            end: 2012-12
            params:
              children.dna_effect: 0.3
              audit_prob: {times: 1.5}
            metric:
              solved: {times: 1.2}

    Raises
    ------
    ParameterError
        Naming the file, the entry and the key at fault
        (``my.yaml:reforms[0].strat``).
    FileNotFoundError
        If the file does not exist.
    """
    import yaml

    path = Path(path)
    text = path.read_text(encoding="utf-8")
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else "the file"
        raise ParameterError(path.name, f"YAML error at {where}", "valid YAML") from None
    return reforms_from_dict(data, prefix=f"{path.name}: ")
