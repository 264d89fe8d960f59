"""An emulator in a separate process, for the duration of a ``with`` block."""

from __future__ import annotations

import contextlib
import os
import selectors
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass

__all__ = ["Server", "child_environment", "serve"]

_START_TIMEOUT = 20.0
_STOP_TIMEOUT = 5.0


@dataclass(frozen=True)
class Server:
    """Where the emulator listens, and a project that ``test-token`` may copy."""

    base_url: str
    token: str
    project_id: str


def child_environment() -> dict[str, str]:
    """This environment without proxy settings, so loopback stays loopback."""
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    return env


def _read_banner(process: subprocess.Popen[bytes]) -> tuple[str, str]:
    """The base URL and the first sample project id the emulator printed."""
    assert process.stdout is not None
    deadline = time.monotonic() + _START_TIMEOUT
    text = b""
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        while time.monotonic() < deadline:
            if not selector.select(timeout=deadline - time.monotonic()):
                break
            chunk = os.read(process.stdout.fileno(), 65536)
            if not chunk:
                break
            text += chunk
            url = project = None
            for line in text.decode().splitlines():
                if line.startswith("NUEXTRACT_EMULATOR_URL="):
                    url = line.partition("=")[2]
                elif line.startswith("project ") and project is None:
                    project = line.split()[1].rstrip(":")
            if url and project:
                return url, project
    raise RuntimeError(f"the emulator did not start: {text.decode()!r:.300}")


@contextlib.contextmanager
def serve(latency: float = 0.0) -> Iterator[Server]:
    """Run ``python -m nuextract_async.emulator`` on 127.0.0.1 with samples."""
    command = [
        sys.executable,
        "-m",
        "nuextract_async.emulator",
        "--host",
        "127.0.0.1",
        "--port",
        "0",
        "--samples",
        "--latency",
        repr(latency),
    ]
    with tempfile.TemporaryFile() as errors:
        process = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=errors,
            stdin=subprocess.DEVNULL,
            env=child_environment(),
        )
        try:
            try:
                url, project_id = _read_banner(process)
            except RuntimeError as exc:
                errors.seek(0)
                raise RuntimeError(f"{exc}; stderr: {errors.read()[-500:]!r}") from None
            yield Server(url, "test-token", project_id)
        finally:
            _stop(process)


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(_STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(_STOP_TIMEOUT)
    if process.stdout is not None:
        process.stdout.close()
