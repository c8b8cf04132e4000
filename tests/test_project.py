"""Project conventions: environment files in step, notebooks clean and parameterised, CLI up."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import nbformat
import pytest
import yaml

from tipresearch.cli import COMMANDS

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
# Conda-only entries of environment.yml that are not Python package dependencies.
CONDA_ONLY = {"python", "pip"}
REQUIREMENT = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[[^\]]*\])?\s*(.*?)\s*$")


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _split(requirement: str) -> tuple[str, str]:
    """``'pandas>=2.1'`` → ``('pandas', '>=2.1')``; ``'python=3.11'`` → ``('python', '=3.11')``."""
    match = REQUIREMENT.match(requirement.split(";")[0])
    assert match, f"cannot read requirement {requirement!r}"
    return _normalise(match.group(1)), match.group(2).replace(" ", "")


def _pyproject_packages() -> dict[str, str]:
    """The core and every extra (environment.yml installs everything), less the extras'
    references to the package itself (``all``)."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    extras = project["optional-dependencies"].values()
    requirements = [*project["dependencies"], *(r for extra in extras for r in extra)]
    packages = dict(_split(r) for r in requirements)
    packages.pop(_normalise(project["name"]), None)
    return packages


def _conda_packages() -> dict[str, str]:
    env = yaml.safe_load((ROOT / "environment.yml").read_text(encoding="utf-8"))
    entries = [d for d in env["dependencies"] if isinstance(d, str)]
    # packages conda-forge lacks are installed by pip, beside the package itself
    for d in env["dependencies"]:
        if isinstance(d, dict):
            entries += [p for p in d.get("pip", []) if not p.startswith("-e")]
    return {name: spec for name, spec in map(_split, entries) if name not in CONDA_ONLY}


def test_environment_file_basics() -> None:
    env = yaml.safe_load((ROOT / "environment.yml").read_text(encoding="utf-8"))
    assert env["name"] == "tipresearch"
    assert env["channels"] == ["conda-forge"]
    names = {_split(d)[0]: _split(d)[1] for d in env["dependencies"] if isinstance(d, str)}
    assert names.get("python") == "=3.11"
    assert "pip" in names
    pip = [d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d]
    assert pip and "-e ." in pip[0], "environment.yml must install the package: pip: [-e .]"


def test_environment_and_pyproject_list_the_same_packages() -> None:
    pyproject, conda = _pyproject_packages(), _conda_packages()
    only_pyproject = sorted(set(pyproject) - set(conda))
    only_conda = sorted(set(conda) - set(pyproject))
    assert not only_pyproject and not only_conda, (
        f"only in pyproject.toml: {only_pyproject}; only in environment.yml: {only_conda}"
    )


def test_environment_and_pyproject_have_the_same_bounds() -> None:
    pyproject, conda = _pyproject_packages(), _conda_packages()
    differ = {
        name: (pyproject[name], conda[name])
        for name in sorted(set(pyproject) & set(conda))
        if pyproject[name] != conda[name]
    }
    assert not differ, f"version bounds differ (pyproject.toml, environment.yml): {differ}"


# --------------------------------------------------------------------------- notebooks

notebook_params = pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])


def _read(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=4)


def _parameter_cells(nb: nbformat.NotebookNode) -> list[int]:
    return [i for i, c in enumerate(nb.cells) if "parameters" in c.metadata.get("tags", [])]


@notebook_params
def test_notebook_has_no_outputs(path: Path) -> None:
    dirty = [
        i
        for i, cell in enumerate(_read(path).cells)
        if cell.cell_type == "code" and (cell.outputs or cell.execution_count is not None)
    ]
    assert not dirty, f"{path.name}: cells {dirty} keep outputs or execution counts"


@notebook_params
def test_notebook_cells_have_unique_ids(path: Path) -> None:
    import json

    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    ids = [c.get("id") for c in cells]
    missing = [i for i, cell_id in enumerate(ids) if not cell_id]
    assert not missing, f"{path.name}: cells {missing} have no id (nbformat 4.5)"
    assert len(set(ids)) == len(ids), f"{path.name}: repeated cell ids"


@notebook_params
def test_notebook_kernel_is_python3(path: Path) -> None:
    spec = _read(path).metadata.get("kernelspec", {})
    assert spec.get("name") == "python3", f"{path.name}: kernelspec {spec}"
    assert spec.get("language") == "python", f"{path.name}: kernelspec {spec}"


@notebook_params
def test_notebook_parameters_cell_holds_literals_only(path: Path) -> None:
    nb = _read(path)
    tagged = _parameter_cells(nb)
    assert len(tagged) == 1, f"{path.name}: cells tagged 'parameters': {tagged}, expected one"
    index = tagged[0]
    assert index < 4, f"{path.name}: the parameters cell is cell {index}, not among the first 4"
    cell = nb.cells[index]
    assert cell.cell_type == "code"
    for stmt in ast.parse(cell.source).body:
        line = f"{path.name}, parameters line {stmt.lineno}"
        assert isinstance(stmt, ast.Assign | ast.AnnAssign), f"{line}: not an assignment"
        targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
        assert all(isinstance(t, ast.Name) for t in targets), f"{line}: assign to names only"
        assert stmt.value is not None, f"{line}: annotation without a value"
        try:
            ast.literal_eval(stmt.value)
        except ValueError:
            pytest.fail(f"{line}: value is not a literal: {ast.unparse(stmt.value)}")


@notebook_params
def test_notebook_declares_figures_dir(path: Path) -> None:
    nb = _read(path)
    tagged = _parameter_cells(nb)
    assert tagged, f"{path.name}: no parameters cell"
    names = set()
    for stmt in ast.parse(nb.cells[tagged[0]].source).body:
        if isinstance(stmt, ast.Assign):
            names.update(t.id for t in stmt.targets if isinstance(t, ast.Name))
        elif isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
            names.add(stmt.target.id)
    assert "figures_dir" in names, f"{path.name}: parameters cell lacks figures_dir"


# --------------------------------------------------------------------------- command line


def _console_script() -> Path:
    script = Path(sys.executable).parent / "tipresearch"
    if not script.exists():
        pytest.fail(f"console script not installed next to {sys.executable}: pip install -e .")
    return script


@pytest.mark.parametrize(
    "command",
    [[sys.executable, "-m", "tipresearch"], None],
    ids=["python -m tipresearch", "tipresearch"],
)
def test_help_lists_subcommands(command: list[str] | None) -> None:
    command = command or [str(_console_script())]
    done = subprocess.run([*command, "--help"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    for name in COMMANDS:
        assert re.search(rf"^\s+{name}\b", done.stdout, re.MULTILINE), (
            f"'{name}' missing from --help:\n{done.stdout}"
        )


@pytest.mark.parametrize(
    "command",
    [[sys.executable, "-m", "tipresearch"], None],
    ids=["python -m tipresearch", "tipresearch"],
)
def test_a_command_exits_with_its_status(command: list[str] | None, tmp_path) -> None:
    """Both entry points exit with the subcommand's status (2: a bad input), and the
    garbage collector frozen at the end leaves the message whole."""
    command = command or [str(_console_script())]
    missing = tmp_path / "nothing.yaml"
    done = subprocess.run(
        [*command, "sweep", str(missing), "--out", str(tmp_path / "out")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2, done.stderr
    assert "tipresearch sweep: error:" in done.stderr and "nothing.yaml" in done.stderr


def test_entry_freezes_the_collector_and_exits_with_mains_status(monkeypatch) -> None:
    import gc

    from tipresearch.cli import app

    frozen = []
    monkeypatch.setattr(app, "main", lambda: 3)
    monkeypatch.setattr(gc, "freeze", lambda: frozen.append(True))
    with pytest.raises(SystemExit) as exit_:
        app.entry()
    assert exit_.value.code == 3 and frozen == [True]


def test_run_help() -> None:
    done = subprocess.run(
        [str(_console_script()), "run", "--help"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    for option in ("--workers", "--out", "--timeout", "-p NAME VALUE", "-f PARAMS.yaml"):
        assert option in done.stdout


def test_citation_file_agrees_with_the_package() -> None:
    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf-8"))
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    for key in ("cff-version", "message", "title", "authors", "version", "license"):
        assert cff.get(key), key
    assert cff["cff-version"] == "1.2.0"
    assert str(cff["version"]) == project["version"]
    assert cff["license"] == project["license"] == "MIT"
    assert all(a.get("name") or a.get("family-names") for a in cff["authors"])
    assert (ROOT / "LICENSE").read_text(encoding="utf-8").startswith("MIT License")
    assert project["license-files"] == ["LICENSE"]


@notebook_params
def test_a_captioned_figure_cell_shows_its_figure_alone(path: Path) -> None:
    """The book captions every display output of a cell with figure metadata as a
    figure: a table shown in the same cell would become a numbered figure too."""
    for i, cell in enumerate(_read(path).cells):
        figure = cell.metadata.get("mystnb", {}).get("figure")
        if cell.cell_type != "code" or not figure:
            continue
        assert "display(" not in cell.source, f"cell {i} shows a table beside its figure"
        assert figure.get("caption") and figure.get("name", "").startswith("fig-"), i
