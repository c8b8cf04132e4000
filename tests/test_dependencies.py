"""The light core and the lock: the model installs and imports without the collection's
packages, and requirements/lock.txt pins everything pyproject.toml asks for."""

from __future__ import annotations

import ast
import importlib.metadata
import importlib.util
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]
LOCK = ROOT / "requirements" / "lock.txt"
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
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;#]+)\s*$")


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


# --------------------------------------------------------------------------- the lock


def _requirements() -> list[Requirement]:
    """The core and every extra, less the extras that name the package itself (``all``)."""
    extras = PROJECT["optional-dependencies"].values()
    requirements = [Requirement(r) for r in [*PROJECT["dependencies"], *sum(extras, [])]]
    return [r for r in requirements if canonicalize_name(r.name) != PROJECT["name"]]


def _lock_pins() -> dict[str, Version]:
    pins: dict[str, Version] = {}
    for line in LOCK.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        match = PIN.match(line)
        assert match, f"{LOCK.name}: not a plain name==version pin: {line!r}"
        name = canonicalize_name(match.group(1))
        assert name not in pins, f"{LOCK.name}: {name} pinned twice"
        pins[name] = Version(match.group(2))
    return pins


def test_all_extra_pulls_every_other_extra() -> None:
    extras = PROJECT["optional-dependencies"]
    (everything,) = extras["all"]
    wanted = Requirement(everything)
    assert canonicalize_name(wanted.name) == PROJECT["name"]
    assert wanted.extras == set(extras) - {"all"}


def test_lock_is_for_python_311() -> None:
    assert "autogenerated by pip-compile with Python 3.11" in LOCK.read_text(encoding="utf-8")


def test_lock_pins_everything_inside_pyprojects_bounds() -> None:
    pins = _lock_pins()
    assert PROJECT["name"] not in pins, "the lock must not pin the package itself"
    names = sorted({canonicalize_name(r.name) for r in _requirements()})
    missing = [name for name in names if name not in pins]
    assert not missing, f"in pyproject.toml but not pinned in {LOCK.name}: {missing}"
    outside = {
        str(r): str(pins[canonicalize_name(r.name)])
        for r in _requirements()
        if not r.specifier.contains(pins[canonicalize_name(r.name)], prereleases=True)
    }
    assert not outside, f"pinned outside pyproject.toml's bounds (requirement: pin): {outside}"


def test_lock_pins_the_build_and_runtime_setuptools() -> None:
    # some packages import setuptools at run time; the lock pins it too (--allow-unsafe)
    assert "setuptools" in _lock_pins()


# --------------------------------------------------------------------------- tasks.py


def _tasks(monkeypatch: pytest.MonkeyPatch, venv: Path):
    spec = importlib.util.spec_from_file_location("tasks", ROOT / "tasks.py")
    tasks = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tasks)
    monkeypatch.setattr(tasks, "VENV", venv)
    monkeypatch.setattr(tasks, "BIN", venv / "bin")
    monkeypatch.setattr(tasks, "STAMP", venv / ".installed")
    calls: list[list[str]] = []
    monkeypatch.setattr(tasks, "_run", lambda *args, env=None: calls.append(list(map(str, args))))
    return tasks, calls


def test_tasks_installs_from_the_lock_and_stamps_the_way(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "python").touch()  # an existing venv, so nothing is created
    monkeypatch.delenv("TIPRESEARCH_UNLOCKED", raising=False)
    tasks, calls = _tasks(monkeypatch, tmp_path)

    tasks.ensure_venv()  # no stamp: install from the lock, then the package without deps
    installs = [c[c.index("install") :] for c in calls]
    assert installs[1:] == [
        ["install", "--quiet", "-r", os.path.join("requirements", "lock.txt")],
        ["install", "--quiet", "--no-deps", "-e", "."],
    ]
    assert tasks.STAMP.read_text(encoding="utf-8").strip() == "locked"

    calls.clear()
    tasks.ensure_venv()  # fresh: nothing to do
    assert calls == []

    os.utime(tasks.STAMP, (0, 0))  # older than the lock: install again
    tasks.ensure_venv()
    assert any("-r" in c for c in calls)

    calls.clear()
    monkeypatch.setenv("TIPRESEARCH_UNLOCKED", "1")  # the other way asked for: install again
    tasks.ensure_venv()
    assert calls[-1][-2:] == ["-e", ".[all]"]
    assert tasks.STAMP.read_text(encoding="utf-8").strip() == "unlocked"


def test_tasks_lock_compiles_every_extra_but_all(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tasks, _ = _tasks(monkeypatch, tmp_path)
    assert sorted(tasks._extras()) == sorted(set(PROJECT["optional-dependencies"]) - {"all"})
