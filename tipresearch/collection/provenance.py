"""What a build was made with: the commit of the project and the version of every package.

:func:`environment` is written into every executed notebook's metadata
(``tipresearch.environment``), every run record and ``run.json``, so that a figure can
be traced to the code and the package versions that drew it.
"""

from __future__ import annotations

import platform
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any

__all__ = ["environment", "package_versions"]


def package_versions(distribution: str = "tipresearch") -> dict[str, str]:
    """``{name: version}`` of a distribution and of every package it requires.

    The requirements of every extra count, so the list is the whole environment the
    collection runs in; a requirement that is not installed is listed as
    ``"not installed"``.
    """
    from packaging.requirements import Requirement

    versions = {distribution: metadata.version(distribution)}
    for line in metadata.requires(distribution) or []:
        name = Requirement(line).name
        if name.lower() == distribution:
            continue
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return dict(sorted(versions.items(), key=lambda kv: kv[0].lower()))


def _git(root: Path, *args: str) -> str | None:
    try:
        done = subprocess.run(
            ["git", *args], cwd=root, capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def environment(root: str | Path) -> dict[str, Any]:
    """The commit, whether tracked files differ from it, Python and the package versions.

    Parameters
    ----------
    root : path-like
        The project folder (a git checkout; outside one, ``commit`` is None).

    Returns
    -------
    dict
        ``commit`` (full hash or None), ``modified`` (tracked files changed since that
        commit, or None), ``python`` (version) and ``packages`` (:func:`package_versions`).
    """
    root = Path(root)
    commit = _git(root, "rev-parse", "HEAD")
    status = _git(root, "status", "--porcelain", "--untracked-files=no") if commit else None
    return {
        "commit": commit,
        "modified": None if status is None else bool(status),
        "python": platform.python_version(),
        "packages": package_versions(),
    }
