"""The stack's supervisor (`python scripts/stack supervise`, the component `supervisor`):
restarts a product process that died without being asked to, with back-off, and rotates
the stack's logs.

What counts as asked: `stack start` writes var/run/<name>.wanted once a component it
started is healthy (not before: the supervisor must not start a second copy while the
first is still coming up), `stack stop`/`down` deletes it before stopping one. A component that has the
file and no live process crashed (or was killed -9): it is started again, at once the
first time, then after DELAY_FIRST_S doubling to DELAY_MAX_S while it keeps dying within
STABLE_S of its last start; a run that lasted STABLE_S starts the count afresh. Only the
product's processes are supervised (stack.product: scoring, web, relays, listener, mail,
SLA worker, stream); Postgres, Redis and Kafka are the infra a deployment runs as
services of their own.

Logs (var/log/*.log) are rotated when one passes LOG_MAX_BYTES: copied to .1 (.1 to .2,
... up to LOG_KEEP) and truncated in place. Every process writes its log in append mode,
so after the truncation its next line lands at the new start of the file: no restart,
no lost line (the copy-then-truncate that logrotate calls copytruncate).
"""
from __future__ import annotations

import shutil
import signal
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from stack.base import LOG, RUN, log
from triage_core.config import env_int

DELAY_FIRST_S = 1.0
DELAY_MAX_S = 30.0
STABLE_S = 60.0
CHECK_EVERY_S = 1.0
LOG_MAX_BYTES = env_int("TRIAGE_LOG_MAX_BYTES", 20 * 1024 * 1024)
LOG_KEEP = 3


def wanted_file(name: str) -> Path:
    return RUN / f"{name}.wanted"


def want(name: str) -> None:
    RUN.mkdir(parents=True, exist_ok=True)
    wanted_file(name).touch()


def unwant(name: str) -> None:
    wanted_file(name).unlink(missing_ok=True)


@dataclass
class Restarts:
    """One component's restart history: when it may next be started, and how long to wait
    after that if it dies again."""
    delay_s: float = 0.0
    started_at: float = float("-inf")
    not_before: float = 0.0
    dead: bool = False  # found dead, not started again yet

    def died(self, now: float) -> None:
        """It was found dead at `now`: schedule the next start."""
        if now - self.started_at >= STABLE_S:
            self.delay_s = 0.0  # it had run well: restart at once
        self.not_before = now + self.delay_s
        self.delay_s = DELAY_FIRST_S if self.delay_s == 0.0 else min(DELAY_MAX_S, self.delay_s * 2)
        self.dead = True

    def started(self, now: float) -> None:
        self.started_at, self.dead = now, False


def rotate(path: Path, *, max_bytes: int = LOG_MAX_BYTES, keep: int = LOG_KEEP) -> bool:
    """Rotate `path` if it is larger than `max_bytes`; whether it was."""
    try:
        if path.stat().st_size <= max_bytes:
            return False
    except FileNotFoundError:
        return False
    for n in range(keep - 1, 0, -1):
        older = path.with_name(f"{path.name}.{n}")
        if older.exists():
            older.replace(path.with_name(f"{path.name}.{n + 1}"))
    shutil.copyfile(path, path.with_name(f"{path.name}.1"))
    with open(path, "r+b") as handle:
        handle.truncate(0)
    return True


def check(components: dict, names: list[str], history: dict[str, Restarts], now: float) -> list[str]:
    """One look at every supervised component: start again those that died and whose
    back-off has passed. Returns the names started."""
    started = []
    for name in names:
        comp, restarts = components[name], history.setdefault(name, Restarts())
        if not wanted_file(name).exists() or comp.running_pid() is not None:
            continue
        if not restarts.dead:
            restarts.died(now)
            wait = restarts.not_before - now
            log(f"supervisor: {name} is not running; starting it again" + (f" in {wait:.0f}s" if wait > 0 else ""))
        if now >= restarts.not_before:
            if comp.before_start is not None:
                comp.before_start()
            (comp.respawn or comp.start)()
            restarts.started(now)
            started.append(name)
            log(f"supervisor: {name} started again")
    return started


def supervise(components: dict, names: list[str], *, stop: threading.Event | None = None) -> None:
    """Watch `names` of `components` (stack.base.Component) until `stop` is set."""
    stop = stop or threading.Event()
    history: dict[str, Restarts] = {}
    last_rotation = 0.0
    log(f"supervisor: watching {', '.join(names)}")
    while not stop.is_set():
        now = time.monotonic()
        check(components, names, history, now)
        if now - last_rotation >= 30.0:
            last_rotation = now
            for path in sorted(LOG.glob("*.log")):
                if rotate(path):
                    log(f"supervisor: rotated {path.name}")
        stop.wait(CHECK_EVERY_S)


def main(components: dict, names: list[str]) -> int:
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    supervise(components, names, stop=stop)
    return 0
