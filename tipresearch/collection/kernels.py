"""The kernels that execute the notebooks: Unix sockets of their own, messages polled
in slices.

Two faults of executing notebooks in several processes at once, each seen to stall a
``make run`` for the five minutes of a course cell's timeout:

- Kernels started at the same moment by separate processes can pick the same free TCP
  port (:data:`tipresearch.collection.runner.KERNEL_START_ATTEMPTS`); one of them then
  never answers. Here each kernel's sockets are Unix sockets named after a fresh random
  key, in Jupyter's runtime folder (or the temporary folder, where that path would be
  too long), so no two kernels can meet.
- A wait for a kernel's message can miss the wake-up for a message that has already
  arrived, and then lasts its whole timeout (nbclient issue 312, seen on cells that
  display widgets, as the course's explorer does). Here every wait polls in slices of
  :data:`POLL_SLICE` seconds: a message that arrived is read at the next slice.

Windows has no such sockets: there Jupyter's own kernel manager is used.
"""

from __future__ import annotations

import os
import tempfile
import time
import uuid
from pathlib import Path
from queue import Empty
from typing import Any

from jupyter_client import AsyncKernelManager
from jupyter_client.asynchronous import AsyncKernelClient
from jupyter_client.channels import AsyncZMQSocketChannel
from jupyter_core.paths import jupyter_runtime_dir
from traitlets import Type, default

__all__ = ["POLL_SLICE", "SlicedChannel", "kernel_manager_class"]

#: Longest wait, in seconds, for one poll of a kernel's socket.
POLL_SLICE = 1.0
#: Longest path of a Unix socket (108 bytes on Linux, 104 on macOS), with room for the
#: ``-N`` of each of a kernel's five sockets.
SOCKET_PATH_MAX = 100


class SlicedChannel(AsyncZMQSocketChannel):
    """A kernel channel whose waits poll in slices of :data:`POLL_SLICE` seconds."""

    async def get_msg(self, timeout: float | None = None) -> dict[str, Any]:
        """The next message, waiting at most ``timeout`` seconds (None: for ever).

        Raises
        ------
        queue.Empty
            When no message came within ``timeout``.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            left = POLL_SLICE if deadline is None else deadline - time.monotonic()
            try:
                return await super().get_msg(timeout=max(min(left, POLL_SLICE), 0.0))
            except Empty:
                if deadline is not None and time.monotonic() >= deadline:
                    raise


class SlicedClient(AsyncKernelClient):
    """A kernel client whose channels are :class:`SlicedChannel` (the heartbeat's is
    its own kind, and stays)."""

    shell_channel_class = Type(SlicedChannel)
    iopub_channel_class = Type(SlicedChannel)
    stdin_channel_class = Type(SlicedChannel)
    control_channel_class = Type(SlicedChannel)


class IpcKernelManager(AsyncKernelManager):
    """Kernels on Unix sockets named after a fresh random key, with :class:`SlicedClient`."""

    @default("transport")
    def _transport_default(self) -> str:
        return "ipc"

    @default("ip")
    def _ip_default(self) -> str:
        name = f"kernel-{uuid.uuid4().hex}-ipc"
        folder = Path(jupyter_runtime_dir())
        if len(str(folder / name)) > SOCKET_PATH_MAX:
            folder = Path(tempfile.gettempdir())
        folder.mkdir(parents=True, exist_ok=True)
        return str(folder / name)

    @default("client_factory")
    def _client_factory_default(self) -> type:
        return SlicedClient


def kernel_manager_class() -> type | None:
    """:class:`IpcKernelManager`, or None on Windows (Jupyter's default there)."""
    return None if os.name == "nt" else IpcKernelManager
