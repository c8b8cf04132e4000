"""The collection's two commands, with nothing but Python and pip.

    python3 tasks.py run    # build the whole collection into build/
    python3 tasks.py test   # lint, import contract, unit tests, every notebook under nbval
    python3 tasks.py lock   # refresh requirements/lock.txt from pyproject.toml

Both first create the project's virtual environment in ``.venv`` when it is
missing or older than ``pyproject.toml`` or ``requirements/lock.txt``, and install
into it every package at the version the lock pins, then the package itself
(``TIPRESEARCH_UNLOCKED=1`` installs ``-e .[all]`` at the newest versions instead).
The Makefile's ``make run``, ``make test`` and ``make lock`` call this script.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import tomllib
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / os.environ.get("VENV", ".venv")
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
STAMP = VENV / ".installed"
PYPROJECT = ROOT / "pyproject.toml"
LOCK = ROOT / "requirements" / "lock.txt"
LOCK_PYTHON = (3, 11)  # the lock is resolved for this Python, on Linux
PIP_TOOLS = "pip-tools>=7.6,<7.7"


def _run(*args: str | os.PathLike, env: dict[str, str] | None = None) -> None:
    print("+", " ".join(str(a) for a in args), flush=True)
    subprocess.run([str(a) for a in args], cwd=ROOT, check=True, env=env)


def _unlocked() -> bool:
    return os.environ.get("TIPRESEARCH_UNLOCKED", "") not in ("", "0")


def ensure_venv() -> None:
    """Create ``.venv`` and install everything from the lock (or unlocked), when needed.

    The stamp records how the venv was installed; it is stale when older than
    ``pyproject.toml`` or the lock, or when the other way is asked for.
    """
    python = BIN / "python"
    mode = "unlocked" if _unlocked() else "locked"
    if mode == "locked" and not LOCK.exists():
        sys.exit(
            f"{LOCK.relative_to(ROOT)} is missing: make it with `python3 tasks.py lock`, "
            "or install without it: TIPRESEARCH_UNLOCKED=1"
        )
    newest = max(p.stat().st_mtime for p in (PYPROJECT, LOCK) if p.exists())
    fresh = (
        STAMP.exists()
        and STAMP.stat().st_mtime >= newest
        and STAMP.read_text(encoding="utf-8").strip() == mode
    )
    if python.exists() and fresh:
        return
    if not python.exists():
        print(f"creating {VENV.name}", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    pip = (python, "-m", "pip", "install", "--quiet")
    _run(*pip, "--upgrade", "pip")
    if mode == "locked":
        _run(*pip, "-r", LOCK.relative_to(ROOT))
        _run(*pip, "--no-deps", "-e", ".")
    else:
        _run(*pip, "-e", ".[all]")
    STAMP.write_text(mode + "\n", encoding="utf-8")


def _extras() -> list[str]:
    """pyproject.toml's extras, less those that only name other extras (``all``)."""
    project = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["project"]
    name = project["name"]
    return [
        extra
        for extra, requirements in project["optional-dependencies"].items()
        if not all(r.replace(" ", "").startswith(f"{name}[") for r in requirements)
    ]


def lock() -> None:
    """Resolve ``requirements/lock.txt`` again: the core and every extra, every version pinned.

    pip-tools runs in a throwaway venv. Pins still allowed by ``pyproject.toml`` are
    kept; ``UPGRADE=1`` moves every package to its newest allowed version.
    """
    if sys.version_info[:2] != LOCK_PYTHON:
        wanted = ".".join(map(str, LOCK_PYTHON))
        sys.exit(f"the lock is made with Python {wanted}; run this with python{wanted}")
    with tempfile.TemporaryDirectory(prefix="tipresearch-lock-") as tmp:
        tools = Path(tmp)
        venv.EnvBuilder(with_pip=True).create(tools)
        bin_ = tools / ("Scripts" if os.name == "nt" else "bin")
        _run(bin_ / "python", "-m", "pip", "install", "--quiet", "--upgrade", "pip", PIP_TOOLS)
        LOCK.parent.mkdir(exist_ok=True)
        compile_ = [
            bin_ / "pip-compile",
            "--quiet",
            "--strip-extras",
            "--allow-unsafe",
            "--no-emit-index-url",
            "--no-emit-find-links",
            "--output-file",
            LOCK.relative_to(ROOT),
        ]
        compile_ += [arg for extra in _extras() for arg in ("--extra", extra)]
        if os.environ.get("UPGRADE", "") not in ("", "0"):
            compile_.append("--upgrade")
        env = {**os.environ, "CUSTOM_COMPILE_COMMAND": "python3 tasks.py lock"}
        _run(*compile_, PYPROJECT.relative_to(ROOT), env=env)


def run() -> None:
    """Execute every notebook into ``$OUT`` (default build/): HTML, index, figures, records,
    the book, and the course's student and instructor editions.

    The two editions are built beside the collection's notebooks, not after them: each
    runs one notebook at a time, and they fill the cores the collection's last
    notebooks leave idle.
    """
    out, workers = os.environ.get("OUT", "build"), os.environ.get("WORKERS", "2")
    editions = []
    for edition in ("student", "instructor"):
        args = [BIN / "tipresearch", "course", "--edition", edition]
        args += ["--out", f"{out}/course-{edition}", "--workers", "1"]
        print("+", " ".join(str(a) for a in args), flush=True)
        editions.append(subprocess.Popen([str(a) for a in args], cwd=ROOT))
    try:
        # no cell of the collection takes a minute: one that runs for 15 has lost its kernel
        _run(BIN / "tipresearch", "run", "--out", out, "--workers", workers, "--timeout", "900")
    finally:
        failed = [p.args for p in editions if p.wait() != 0]
    if failed:
        raise subprocess.CalledProcessError(1, failed[0])


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
    commands = {"venv": lambda: None, "run": run, "test": test, "lock": lock}
    if len(argv) != 1 or argv[0] not in commands:
        print(f"usage: python3 tasks.py {{{','.join(commands)}}}", file=sys.stderr)
        return 2
    if argv[0] != "lock":
        ensure_venv()
    try:
        commands[argv[0]]()
    except subprocess.CalledProcessError as exc:
        return exc.returncode or 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
