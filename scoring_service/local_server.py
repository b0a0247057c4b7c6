"""Start the real service (gunicorn) on a free loopback port, for tests and benchmarks."""
from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def running_service(*, workers: int = 1, threads: int = 4, timeout_s: float = 60.0,
                    env: dict[str, str] | None = None) -> Iterator[str]:
    """Yields the base URL of a service started with `python -m scoring_service`; stops it after."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "scoring_service", "--port", str(port), "--workers", str(workers),
         "--threads", str(threads)],
        cwd=PROJECT_ROOT, env={**os.environ, **(env or {})},
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            if process.poll() is not None:
                stderr = process.stderr.read().decode() if process.stderr else ""
                raise RuntimeError(f"scoring service exited: {stderr[-2000:]}")
            try:
                with urllib.request.urlopen(url + "/readyz", timeout=1) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"scoring service not ready on {url} after {timeout_s:.0f} s")
            time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
