"""Notebook parameters: check the selected notebooks, read what each declares, resolve values.

A notebook declares its parameters in the code cell tagged ``parameters``; values come
from YAML parameter files and the command line and are checked against the type of each
default before anything runs.
"""

from __future__ import annotations

import ast
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from tipresearch.errors import ParameterError

__all__ = [
    "FIGURES_DIR",
    "RESULTS_DIR",
    "check_notebooks",
    "check_type",
    "inspect_parameters",
    "load_parameter_file",
    "parse_value",
    "resolve_parameters",
]

#: Parameters the runner fills in itself when a notebook declares them.
FIGURES_DIR = "figures_dir"
RESULTS_DIR = "results_dir"

# Types a parameter's default can have, by the name used in messages.
_TYPES: dict[str, tuple[type, ...]] = {
    "int": (int,),
    "float": (int, float),
    "bool": (bool,),
    "str": (str,),
    "list": (list,),
    "dict": (dict,),
    "tuple": (list, tuple),
}


# --------------------------------------------------------------------------- notebooks


def check_notebooks(notebooks: Iterable[str | os.PathLike]) -> list[Path]:
    """Return the notebooks as absolute paths, checking that each can be run.

    Raises
    ------
    ParameterError
        For a path that is not an existing ``.ipynb`` file, or two notebooks with the
        same name (their outputs would overwrite each other).
    """
    paths: list[Path] = []
    seen: dict[str, Path] = {}
    for item in notebooks:
        path = Path(item)
        if path.suffix != ".ipynb" or not path.is_file():
            raise ParameterError("notebook", str(item), "an existing .ipynb file")
        path = path.resolve()
        if path.stem in seen and seen[path.stem] != path:
            raise ParameterError(
                "notebook",
                str(item),
                f"notebooks with distinct names (already selected: {seen[path.stem]})",
            )
        if path.stem not in seen:
            seen[path.stem] = path
            paths.append(path)
    return paths


def inspect_parameters(path: str | os.PathLike) -> dict[str, tuple[Any, str]]:
    """Return the parameters a notebook's ``parameters`` cell declares.

    Parameters
    ----------
    path : path-like
        The notebook.

    Returns
    -------
    dict
        ``{name: (default, type_name)}`` in the order of the cell. ``default`` is the
        literal value (its source text when it is not a literal); ``type_name`` is one
        of ``int``, ``float``, ``bool``, ``str``, ``list``, ``dict``, ``tuple``,
        ``None`` (a None default, which accepts anything) or ``unknown`` (not a
        literal, not checked). An annotation such as ``x: float = 1`` takes precedence
        over the default's own type.

    References
    ----------
    papermill's ``inspect_notebook``, which parses the cell tagged ``parameters``.
    """
    import papermill

    try:
        found = papermill.inspect_notebook(str(path))
    except Exception as exc:  # a corrupt file: name it, whatever the parser says
        raise ParameterError("notebook", str(path), f"a readable notebook ({exc})") from exc
    declared: dict[str, tuple[Any, str]] = {}
    for name, info in found.items():
        source = info.get("default", "")
        try:
            default = ast.literal_eval(source)
            type_name = "None" if default is None else type(default).__name__
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            default, type_name = source, "unknown"
        annotated = str(info.get("inferred_type_name") or "None").split("[")[0].strip()
        if annotated in _TYPES:
            type_name = annotated
        if type_name not in _TYPES and type_name != "None":
            type_name = "unknown"
        declared[name] = (default, type_name)
    return declared


def check_type(name: str, value: Any, default: Any, type_name: str, notebook: str) -> None:
    """Check that ``value`` may replace a parameter whose default has ``type_name``.

    An int is accepted where a float is expected; a bool is not an int; a None default
    or a default that is not a literal accepts anything; other types must match.

    Raises
    ------
    ParameterError
        Naming the parameter, the value, the notebook and the expected type.
    """
    if type_name in ("None", "unknown"):
        return
    allowed = _TYPES[type_name]
    if isinstance(value, bool) and bool not in allowed:
        ok = False
    else:
        ok = isinstance(value, allowed)
    if not ok:
        raise ParameterError(
            name,
            value,
            f"{_article(type_name)} {type_name} (the type of its default {default!r} in "
            f"notebook {notebook}), not {_article(type(value).__name__)} {type(value).__name__}",
        )


def _article(word: str) -> str:
    return "an" if word[:1] in "aeiou" else "a"


# --------------------------------------------------------------------------- parameters


def parse_value(text: str) -> Any:
    """Read a command-line parameter value as YAML: ``3`` → 3, ``0.5`` → 0.5,
    ``true`` → True, ``[1, 2]`` → [1, 2], anything else → the string itself."""
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return text


def load_parameter_file(path: str | os.PathLike) -> dict[str, Any]:
    """Read a YAML parameter file (safe loader only).

    Parameters
    ----------
    path : path-like
        A YAML mapping: either ``{name: value}`` for every notebook, or keyed by
        notebook name, ``{01_the_cable_in_numbers: {name: value}}``, or both mixed.

    Returns
    -------
    dict
        The mapping as read (an empty file gives ``{}``).

    Raises
    ------
    ParameterError
        When the file is missing, is not valid YAML or is not a mapping.
    """
    path = Path(path)
    allowed = "a YAML file holding a mapping of parameter names (or notebook names) to values"
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ParameterError("parameter file", str(path), f"{allowed}; {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise ParameterError(
            "parameter file", str(path), f"{allowed}, in UTF-8 (byte {exc.start} is not UTF-8)"
        ) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        where = ""
        mark = getattr(exc, "problem_mark", None)
        if mark is not None:
            where = f" at line {mark.line + 1}, column {mark.column + 1}"
        problem = getattr(exc, "problem", None) or type(exc).__name__
        raise ParameterError(
            "parameter file", str(path), f"{allowed}; YAML error{where}: {problem}"
        ) from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ParameterError(
            "parameter file", str(path), f"{allowed}; it holds a {type(data).__name__}"
        )
    for key in data:
        if not isinstance(key, str):
            raise ParameterError(
                "parameter file", str(path), f"{allowed}; key {key!r} is not a name"
            )
    return data


def resolve_parameters(
    notebooks: Sequence[str | os.PathLike],
    parameters: Mapping[str, Any] | None = None,
    parameter_files: Iterable[str | os.PathLike] = (),
    out: str | os.PathLike | None = None,
    declared: Mapping[str, dict[str, tuple[Any, str]]] | None = None,
) -> dict[str, dict[str, Any]]:
    """Work out and check the parameters each notebook will receive.

    Sources, later ones winning: each file of ``parameter_files`` in turn (its flat
    entries, then its entries for the notebook), then ``parameters``. A flat entry
    goes to every notebook that declares the name. When ``out`` is given, a notebook
    that declares ``figures_dir`` gets ``<out>/figures`` and one that declares
    ``results_dir`` gets ``<out>/results/<notebook name>`` (absolute), unless set above.

    Parameters
    ----------
    notebooks : sequence of path-like
        The selected notebooks (checked with :func:`check_notebooks`).
    parameters : mapping, optional
        ``{name: value}`` for every notebook that declares ``name``.
    parameter_files : iterable of path-like
        YAML files read with :func:`load_parameter_file`. A top-level key equal to the
        name (stem) of a selected notebook, with a mapping as value, holds that
        notebook's own parameters; such a key naming another notebook next to a
        selected one is skipped; every other key is a flat parameter.
    out : path-like, optional
        The output folder of the run.
    declared : mapping, optional
        ``{stem: inspect_parameters(path)}`` when already known.

    Returns
    -------
    dict
        ``{notebook stem: {name: value}}`` in the order of ``notebooks``.

    Raises
    ------
    ParameterError
        For a name no selected notebook declares (the message lists those declared),
        a value whose type does not match the default's, or a bad file or notebook.
    """
    paths = check_notebooks(notebooks)
    if declared is None:
        declared = {p.stem: inspect_parameters(p) for p in paths}
    stems = [p.stem for p in paths]
    siblings = {q.stem for p in paths for q in p.parent.glob("*.ipynb")}

    # (source label, notebook stem or None for all, {name: value}) in order of precedence
    layers: list[tuple[str, str | None, dict[str, Any]]] = []
    for file in parameter_files:
        data = load_parameter_file(file)
        flat: dict[str, Any] = {}
        own: list[tuple[str | None, dict[str, Any]]] = []
        for key, value in data.items():
            if key in stems and isinstance(value, dict):
                own.append((key, value))
            elif key in siblings and isinstance(value, dict):
                continue  # parameters for a notebook not selected in this run
            else:
                flat[key] = value
        layers.append((f"file {file}", None, flat))
        layers.extend((f"file {file}", stem, values) for stem, values in own)
    if parameters:
        layers.append(("command line", None, dict(parameters)))

    all_names = sorted({n for stem in stems for n in declared[stem]})
    resolved: dict[str, dict[str, Any]] = {stem: {} for stem in stems}
    for source, target, values in layers:
        for name, value in values.items():
            if target is None:
                takers = [stem for stem in stems if name in declared[stem]]
                if not takers:
                    raise ParameterError(
                        name,
                        value,
                        "a parameter declared by the selected notebooks: "
                        + (", ".join(all_names) or "(none declare any)")
                        + f" (set by {source})",
                    )
            else:
                if name not in declared[target]:
                    raise ParameterError(
                        name,
                        value,
                        f"a parameter declared by notebook {target}: "
                        + (", ".join(declared[target]) or "(none)")
                        + f" (set by {source})",
                    )
                takers = [target]
            for stem in takers:
                default, type_name = declared[stem][name]
                check_type(name, value, default, type_name, stem)
                resolved[stem][name] = value

    if out is not None:
        base = Path(out).resolve()
        for stem in stems:
            if FIGURES_DIR in declared[stem] and FIGURES_DIR not in resolved[stem]:
                resolved[stem][FIGURES_DIR] = str(base / "figures")
            if RESULTS_DIR in declared[stem] and RESULTS_DIR not in resolved[stem]:
                resolved[stem][RESULTS_DIR] = str(base / "results" / stem)
    return resolved
