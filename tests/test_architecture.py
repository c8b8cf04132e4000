"""The package's rooms import downward only: the import-linter contract in pyproject.toml.

``make test`` runs ``lint-imports`` on the package; these tests show that the contract
holds today and that it catches what it is there to catch: an upward import, one hidden
inside a function, and the experiments importing the fit.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LINT = Path(sys.executable).with_name("lint-imports")
ROOMS = ("data", "model", "reforms", "fit", "experiments", "figures", "collection", "cli")


def _lint(root: Path) -> subprocess.CompletedProcess[str]:
    """Run lint-imports on the package under ``root`` with ``root``'s pyproject.toml."""
    env = {**os.environ, "PYTHONPATH": str(root)}
    return subprocess.run(
        [str(LINT), "--no-cache", "--no-logo", str(root / "pyproject.toml")],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    """A copy of the package and its pyproject.toml, to break on purpose."""
    shutil.copytree(
        ROOT / "tipresearch", tmp_path / "tipresearch", ignore=shutil.ignore_patterns("__pycache__")
    )
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def test_contract_names_every_room_once() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    (contract,) = config["tool"]["importlinter"]["contracts"]
    named = [m.strip() for layer in contract["layers"] for m in layer.split("|")]
    assert len(named) == len(set(named))
    for room in ROOMS:
        assert f"tipresearch.{room}" in named
        assert (ROOT / "tipresearch" / room / "__init__.py").is_file()


def test_the_package_keeps_the_contract() -> None:
    done = _lint(ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 kept, 0 broken" in done.stdout


@pytest.mark.parametrize(
    ("module", "line", "expected"),
    [
        # the model importing a figure: an upward import at the top of a module
        (
            "model/params.py",
            "from tipresearch.figures.theme import set_theme  # noqa\n",
            "tipresearch.model.params -> tipresearch.figures.theme",
        ),
        # the same, hidden inside a function, as if to dodge a circle
        (
            "data/loaders.py",
            "def _hidden():\n    from tipresearch.model.params import ModelParams\n",
            "tipresearch.data.loaders -> tipresearch.model.params",
        ),
        # the experiments importing the fit, which runs its refits on their executors
        (
            "experiments/space.py",
            "from tipresearch.fit.targets import Target  # noqa\n",
            "tipresearch.experiments.space -> tipresearch.fit.targets",
        ),
    ],
)
def test_the_contract_fails_on_an_upward_import(
    copy: Path, module: str, line: str, expected: str
) -> None:
    path = copy / "tipresearch" / module
    path.write_text(path.read_text(encoding="utf-8") + "\n\n" + line, encoding="utf-8")
    done = _lint(copy)
    assert done.returncode != 0
    assert "BROKEN" in done.stdout
    assert expected in done.stdout, done.stdout
