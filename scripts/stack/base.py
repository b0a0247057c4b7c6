"""What every component of the local stack shares: where things live (var/, ports),
starting a process detached with its log and PID file, stopping it by its process group,
and the Component record whose hooks the generic start/stop/status use."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from triage_core.config import addresses, env, env_int, var_dir  # noqa: E402

VAR = var_dir()
RUN = VAR / "run"
LOG = VAR / "log"
PY = str(ROOT / ".venv" / "bin" / "python")
WEB_PORT = env_int("TRIAGE_WEB_PORT", 8000)
SCORING_PORT = env_int("TRIAGE_SCORING_PORT", 9000)
SMTP_PORT = env_int("TRIAGE_SMTP_PORT", 2525)
ADDR = addresses()
# `TRIAGE_STACK_MODE=cluster` (scripts/cluster-stack.env, `make cluster-up`): three Kafka
# nodes and a Spark standalone master with two workers, the stream submitted to them with
# spark-submit. The default, `local`, is one broker and the stream in local[2].
STACK_MODE = env("TRIAGE_STACK_MODE", "local")
if STACK_MODE not in ("local", "cluster"):
    raise SystemExit(f"TRIAGE_STACK_MODE must be local or cluster, not {STACK_MODE!r}")
CLUSTER = STACK_MODE == "cluster"


def host_port(url_or_pair: str, default_port: int) -> tuple[str, int]:
    rest = url_or_pair.split("://", 1)[-1].split("/", 1)[0].rsplit("@", 1)[-1]
    host, _, port = rest.partition(":")
    return host or "127.0.0.1", int(port or default_port)


def log(msg: str) -> None:
    print(f"\033[1m[stack]\033[0m {msg}", flush=True)



# --------------------------------------------------------------------------- processes

def pid_file(name: str) -> Path:
    return RUN / f"{name}.pid"


def read_pid(name: str) -> int | None:
    try:
        pid = int(pid_file(name).read_text().strip())
    except (FileNotFoundError, ValueError):
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        return pid
    # A zombie (finished child of this process) counts as gone.
    try:
        if Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z":
            return None
    except (FileNotFoundError, IndexError):
        return None
    return pid


def spawn(name: str, argv: list[str], *, extra_env: dict[str, str] | None = None, user: str | None = None) -> int:
    """Start `argv` detached in its own process group, output to var/log/<name>.log."""
    RUN.mkdir(parents=True, exist_ok=True)
    LOG.mkdir(parents=True, exist_ok=True)
    logfile = open(LOG / f"{name}.log", "ab")
    # The local stack runs the local settings, whatever the caller's (a test run's are
    # config.settings.test).
    proc_env = {**os.environ, "PYTHONUNBUFFERED": "1", "DJANGO_SETTINGS_MODULE": "config.settings.local",
                **(extra_env or {})}
    if user:
        argv = ["runuser", "-u", user, "--", *argv]
    proc = subprocess.Popen(argv, cwd=ROOT, env=proc_env, stdout=logfile, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL, start_new_session=True)
    pid_file(name).write_text(str(proc.pid))
    return proc.pid


def stop_pid(name: str, *, kill: bool = False, timeout: float = 30.0) -> None:
    pid = read_pid(name)
    if pid is None:
        pid_file(name).unlink(missing_ok=True)
        return
    sig = signal.SIGKILL if kill else signal.SIGTERM
    try:
        os.killpg(pid, sig)
    except ProcessLookupError:
        pass
    deadline = time.monotonic() + timeout
    while read_pid(name) is not None and time.monotonic() < deadline:
        time.sleep(0.2)
    if read_pid(name) is not None:
        log(f"{name} did not stop in {timeout:.0f}s; killing it")
        try:
            os.killpg(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        time.sleep(0.5)
    pid_file(name).unlink(missing_ok=True)


def port_open(host: str, port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as resp:
            return 200 <= resp.status < 400
    except (urllib.error.URLError, OSError, ValueError):
        return False



# --------------------------------------------------------------------------- components

@dataclass
class Component:
    """One part of the stack. The generic start/stop/status (stack.cli) call only these
    hooks; what is particular to a part lives in its own functions."""
    name: str
    start: Callable[[], None]
    healthy: Callable[[], bool]
    stop: Callable[[bool], None] | None = None  # (kill) -> None; default: its process group by PID file
    timeout: float = 60.0
    url: str = ""
    # The PID of the part's running server when it is not the spawned process's
    # (Postgres: the postmaster, not runuser); default: the PID file's.
    pid: Callable[[], int | None] | None = None
    before_start: Callable[[], None] | None = None  # before each start (clear a readiness mark)
    after_up: Callable[[], None] | None = None      # after every start, healthy (a database, a topic)
    data_dirs: Callable[[], list[Path]] = field(default=list)  # data outside VAR that `wipe` deletes
    # How the supervisor starts it again after a crash, when that is less than `start`.
    respawn: Callable[[], None] | None = None

    def running_pid(self) -> int | None:
        return self.pid() if self.pid is not None else read_pid(self.name)

    def halt(self, kill: bool) -> None:
        if self.stop is not None:
            self.stop(kill)
        else:
            stop_pid(self.name, kill=kill)
