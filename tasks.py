"""The collection's two commands, with nothing but Python and pip.

    python3 tasks.py run    # build the whole collection into build/
    python3 tasks.py test   # lint, import contract, unit tests, every notebook under nbval

Both first create the project's virtual environment in ``.venv`` when it is
missing or older than ``pyproject.toml``, and install the package into it. The
Makefile's ``make run`` and ``make test`` call this script.
"""

from __future__ import annotations

import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / os.environ.get("VENV", ".venv")
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
STAMP = VENV / ".installed"


def _run(*args: str | os.PathLike) -> None:
    print("+", " ".join(str(a) for a in args), flush=True)
    subprocess.run([str(a) for a in args], cwd=ROOT, check=True)


def ensure_venv() -> None:
    """Create ``.venv`` and install the package with its dev extra, when needed."""
    python = BIN / "python"
    fresh = STAMP.exists() and STAMP.stat().st_mtime >= (ROOT / "pyproject.toml").stat().st_mtime
    if python.exists() and fresh:
        return
    if not python.exists():
        print(f"creating {VENV.name}", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    _run(python, "-m", "pip", "install", "--quiet", "--upgrade", "pip")
    _run(python, "-m", "pip", "install", "--quiet", "-e", ".[dev]")
    STAMP.touch()


def run() -> None:
    """Execute every notebook into ``$OUT`` (default build/): HTML, index, figures, records."""
    out, workers = os.environ.get("OUT", "build"), os.environ.get("WORKERS", "2")
    _run(BIN / "tipresearch", "run", "--out", out, "--workers", workers)


def test() -> None:
    """ruff, the import contract, then pytest over tests/ and nbval over notebooks/."""
    _run(BIN / "ruff", "check", ".")
    _run(BIN / "ruff", "format", "--check", ".")
    _run(BIN / "lint-imports", "--no-cache", "--no-logo")
    _run(
        BIN / "python",
        "-m",
        "pytest",
        "tests",
        "notebooks",
        "--nbval-lax",
        "-p",
        "no:cacheprovider",
    )


def main(argv: list[str]) -> int:
    commands = {"venv": lambda: None, "run": run, "test": test}
    if len(argv) != 1 or argv[0] not in commands:
        print(f"usage: python3 tasks.py {{{','.join(commands)}}}", file=sys.stderr)
        return 2
    ensure_venv()
    try:
        commands[argv[0]]()
    except subprocess.CalledProcessError as exc:
        return exc.returncode or 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
