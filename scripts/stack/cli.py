"""The stack's commands (`python scripts/stack <action> [names]`): generic over the
components of stack.infra and stack.product, which say through their hooks what is
particular to each."""
from __future__ import annotations

import argparse
import os
import shutil
import threading
import time

from stack import infra, product, supervisor
from stack.base import LOG, VAR, WEB_PORT, Component, log, pid_file, read_pid
from triage_core.config import DEFAULT_VAR_DIR

COMPONENTS: dict[str, Component] = {c.name: c for c in [*infra.COMPONENTS, *product.COMPONENTS]}
ORDER = list(COMPONENTS)


# Each Kafka node's folder is private too (`kafka`, or `kafka-1`... in the cluster mode), and
# the Spark workers' work dirs (`spark`: executors' logs, shipped job files).
PRIVATE_DIRS = ("run", "log", *[node.name for node in infra.KAFKA_NODES], "redis", "mail", "checkpoints", "secrets",
                "spark")


def make_var_private() -> None:
    """var/ holds complaint text (Kafka segments, checkpoints), customers' mail and the
    stack's secrets: readable by the product only. The var dir itself is 0711, so the
    `postgres` user can still reach its own data folder inside it (0700, its own)."""
    VAR.mkdir(parents=True, exist_ok=True)
    os.chmod(VAR, 0o711)
    for name in PRIVATE_DIRS:
        folder = VAR / name
        folder.mkdir(exist_ok=True)
        os.chmod(folder, 0o700)


def wait_healthy(comp: Component) -> None:
    deadline = time.monotonic() + comp.timeout
    while time.monotonic() < deadline:
        if comp.healthy():
            return
        if comp.running_pid() is None and read_pid(comp.name) is None:
            break
        time.sleep(0.5)
    tail = ""
    logfile = LOG / f"{comp.name}.log"
    if logfile.exists():
        tail = "\n".join(logfile.read_text(errors="replace").splitlines()[-25:])
    raise SystemExit(f"{comp.name} is not healthy (see {logfile}):\n{tail}")



def start(name: str) -> None:
    comp = COMPONENTS[name]
    if comp.healthy():
        log(f"{name}: already up")
    else:
        if comp.running_pid() is not None:
            log(f"{name}: running but not healthy yet; waiting")
        else:
            log(f"{name}: starting (log: {LOG / (name + '.log')})")
            if comp.before_start is not None:
                comp.before_start()
            comp.start()
        wait_healthy(comp)
        log(f"{name}: healthy")
    # Only now: while it starts here, the supervisor must not start a second one.
    supervisor.want(name)
    if comp.after_up is not None:
        comp.after_up()


def stop(name: str, kill: bool = False) -> None:
    comp = COMPONENTS[name]
    supervisor.unwant(name)  # before it stops: the supervisor must not start it again
    if comp.running_pid() is None and read_pid(name) is None:
        pid_file(name).unlink(missing_ok=True)
        return
    log(f"{name}: {'killing' if kill else 'stopping'}")
    comp.halt(kill)


def stop_all(names: list[str], kill: bool = False) -> None:
    """Stops `names` in reverse order, except that the nodes of a Kafka cluster stop
    together: one after the other, the last one would wait in vain for a quorum of
    controllers to let its broker go (and be killed after 30 s)."""
    nodes = [n for n in names if n in {node.name for node in infra.KAFKA_NODES}]
    for name in reversed(names):
        if name not in nodes or len(nodes) == 1:
            stop(name, kill=kill)
        elif name == nodes[-1]:
            threads = [threading.Thread(target=stop, args=(node, kill)) for node in nodes]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()


def up(names: list[str]) -> None:
    for name in names:
        start(name)
    log("up. URLs:")
    for name in names:
        if COMPONENTS[name].url:
            print(f"    {name:<9} {COMPONENTS[name].url}")
    print(f"    customer form   http://127.0.0.1:{WEB_PORT}/")
    print(f"    staff queue     http://127.0.0.1:{WEB_PORT}/staff/")
    print(f"    admin           http://127.0.0.1:{WEB_PORT}/admin/")
    print(f"    API schema      http://127.0.0.1:{WEB_PORT}/api/schema/")
    print(f"    sent mail       http://127.0.0.1:{WEB_PORT}/staff/mail/ (files in {VAR / 'mail'})")


def wipe() -> None:
    """Stop every part and delete the var dir's data, so the next `up` starts afresh.

    For the test stack (`make test` wipes var/test before each run, so a run never
    meets a Kafka topic, checkpoint or database left by an earlier one). Refused for the
    default var/: that is the data of a person's `make up` stack.
    """
    if VAR.resolve() == DEFAULT_VAR_DIR.resolve():
        raise SystemExit(f"refusing to wipe {VAR}: it holds the `make up` stack's data (set TRIAGE_VAR_DIR)")
    stop_all(ORDER)
    for folder in [VAR, *[d for comp in COMPONENTS.values() for d in comp.data_dirs()]]:
        if folder.exists():
            log(f"deleting {folder}")
            shutil.rmtree(folder)



def status() -> int:
    bad = 0
    for name, comp in COMPONENTS.items():
        pid = comp.running_pid()
        ok = comp.healthy()
        bad += not ok
        print(f"{name:<9} {'healthy' if ok else ('running, unhealthy' if pid else 'stopped'):<20} "
              f"pid={pid or '-':<8} log={LOG / (name + '.log')}")
    return 1 if bad else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("action", choices=["up", "down", "status", "start", "stop", "restart", "wipe", "supervise"])
    parser.add_argument("names", nargs="*", help=f"components (default all): {', '.join(ORDER)}")
    parser.add_argument("--kill", action="store_true", help="stop with SIGKILL (fault tests)")
    args = parser.parse_args(argv)
    unknown = [n for n in args.names if n not in COMPONENTS]
    if unknown:
        parser.error(f"unknown component(s) {unknown}; known: {ORDER}")
    names = [n for n in ORDER if n in args.names] if args.names else ORDER
    if args.action in ("up", "start", "restart"):
        make_var_private()
    if args.action in ("up", "start"):
        up(names) if args.action == "up" else [start(n) for n in names]
    elif args.action in ("down", "stop"):
        stop_all(names, kill=args.kill)
    elif args.action == "restart":
        stop_all(names, kill=args.kill)
        for name in names:
            start(name)
    elif args.action == "wipe":
        wipe()
    elif args.action == "supervise":
        return supervisor.main(COMPONENTS, product.SUPERVISED)
    else:
        return status()
    return 0
