"""Serving the live explorer with Voilà on localhost, for a classroom projector."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from tipresearch.errors import ParameterError

__all__ = ["EXPLORER_NOTEBOOK", "explorer_url", "free_port", "start_explorer", "wait_until_up"]

#: The explorer's notebook, relative to the project root.
EXPLORER_NOTEBOOK = "notebooks/course/03_explorer.ipynb"


def free_port() -> int:
    """A TCP port on localhost that nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def explorer_url(port: int) -> str:
    """The page Voilà serves the explorer at."""
    return f"http://127.0.0.1:{port}/"


def start_explorer(root: str | os.PathLike, port: int) -> subprocess.Popen:
    """Start Voilà on the explorer notebook at ``127.0.0.1:port``; return the process.

    The kernel gets ``TIPRESEARCH_EXPLORER=live``, so the notebook shows the live
    controls without the book's still picture.
    """
    if isinstance(port, bool) or not isinstance(port, int) or not 1024 <= port <= 65535:
        raise ParameterError("port", port, "a whole number in [1024, 65535]")
    notebook = Path(root) / EXPLORER_NOTEBOOK
    if not notebook.exists():
        raise ParameterError("root", str(root), f"a project with {EXPLORER_NOTEBOOK}")
    env = {**os.environ, "TIPRESEARCH_EXPLORER": "live"}
    command = [
        sys.executable,
        "-m",
        "voila",
        str(notebook),
        f"--port={port}",
        "--no-browser",
        "--Voila.ip=127.0.0.1",
        "--theme=light",
    ]
    log = tempfile.TemporaryFile()  # Voila's messages, read back if it fails
    process = subprocess.Popen(
        command, env=env, cwd=notebook.parent, stdout=log, stderr=subprocess.STDOUT
    )
    process.log = log  # type: ignore[attr-defined]
    return process


def wait_until_up(url: str, process: subprocess.Popen, timeout: float = 60.0) -> None:
    """Wait until ``url`` answers (Voilà started), or raise RuntimeError."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log = getattr(process, "log", None)
            out = ""
            if log is not None:
                log.seek(0)
                out = log.read().decode(errors="replace")
            raise RuntimeError(f"Voila stopped (exit {process.returncode}): {out[-800:]}")
        try:
            with urllib.request.urlopen(url, timeout=5):
                return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError(f"Voila did not answer at {url} within {timeout:g} s")
