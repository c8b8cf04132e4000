"""The light core: the model installs and imports without the collection's packages."""

from __future__ import annotations

import ast
import importlib.metadata
import subprocess
import sys
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]

# what `pip install -e .` must be enough for
LIGHT_ROOMS = ("tipresearch", "tipresearch.model", "tipresearch.reforms", "tipresearch.data")
LIGHT_MODULES = ("tipresearch.checks", "tipresearch.errors", "tipresearch.io")
# modules of the extras (and of the test tools) that importing the light rooms must not load
HEAVY = (
    "jupyterlab",
    "notebook",
    "papermill",
    "nbval",
    "nbformat",
    "nbconvert",
    "ipykernel",
    "IPython",
    "jupyter_core",
    "jupyter_client",
    "dask",
    "distributed",
    "matplotlib",
    "seaborn",
    "statsmodels",
    "SALib",
    "ema_workbench",
    "tqdm",
    "jupyter_book",
    "sphinx",
    "selenium",
    "mesa",
    "pytest",
    "hypothesis",
)


# --------------------------------------------------------------------------- light core


def _heavy_loaded(extra_import: str = "") -> list[str]:
    """The HEAVY modules in ``sys.modules`` of a fresh interpreter after the light imports."""
    code = "\n".join(
        [
            "import sys",
            *(f"import {name}" for name in (*LIGHT_ROOMS, *LIGHT_MODULES)),
            extra_import,
            f"print(' '.join(m for m in {HEAVY!r} if m in sys.modules))",
        ]
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=ROOT
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


def test_the_light_rooms_import_no_heavy_package() -> None:
    loaded = _heavy_loaded()
    assert not loaded, f"importing {', '.join(LIGHT_ROOMS)} loads {loaded}"


def test_the_import_check_sees_a_heavy_import() -> None:
    assert "matplotlib" in _heavy_loaded("import matplotlib")


def _core_names() -> set[str]:
    return {canonicalize_name(Requirement(r).name) for r in PROJECT["dependencies"]}


def _imported_top_names(path: Path) -> set[str]:
    """Top-level names of every absolute import in a file, at any depth in the code."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_the_light_rooms_import_only_core_packages() -> None:
    """Every third-party import in the light rooms (at the top or in a function) is a core
    dependency, so that a core-only install runs them."""
    package = ROOT / "tipresearch"
    files = [package / "__init__.py", *(package / f"{m}.py" for m in ("checks", "errors", "io"))]
    for room in ("model", "reforms", "data"):
        files += sorted((package / room).rglob("*.py"))
    distributions = importlib.metadata.packages_distributions()
    core, outside = _core_names(), {}
    for path in files:
        for name in _imported_top_names(path) - set(sys.stdlib_module_names) - {"tipresearch"}:
            dists = {canonicalize_name(d) for d in distributions.get(name, [name])}
            if not dists & core:
                outside.setdefault(name, []).append(str(path.relative_to(ROOT)))
    assert not outside, f"imported by the light rooms but not core dependencies: {outside}"
