"""Cluster-mode benchmark (issue 13): throughput with 1 vs 2 Spark workers and 1 vs 2
scoring replicas, on the same complaints, in one run, on the running cluster-mode stack
(`make cluster-up` first; this script reads scripts/cluster-stack.env itself).

For each of the four shapes, (workers, replicas) = (1, 1), (2, 1), (1, 2), (2, 2), the
same --count load-generator texts (new complaint ids each time, so every shape scores
them all) are produced to Kafka as fast as it takes them; the figure is the time from the
first produce to the last score committed in Postgres. The baseline is the first shape,
(1, 1), measured in the same run; each other shape prints its ratio to it. In-process NLTK
VADER on the same texts is printed too, as bench_pipeline.py does.

A shape is made with the stack's own commands: `stack stop spark-worker-2` (the stream's
application loses that executor) and `stack stop scoring-2` (HAProxy's checks take it
out of the balancer), and started again for the next shape. The stack is left with both
workers and both replicas.

This machine has 2 cores: every shape shares them with three Kafka nodes, Postgres,
HAProxy, the Spark master and the driver, so the ratios say what a second worker or
replica buys when the cores are already busy, not what it buys on machines of their own
(docs/scaling.md has the per-stage costs for that).

    .venv/bin/python bench/bench_cluster.py [--count 100000] [--sample 5000] [--seed N]
"""
from __future__ import annotations

import argparse
import dataclasses
import itertools
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def load_cluster_env() -> None:
    """scripts/cluster-stack.env into this process (and so into every `stack` call), unless
    the caller exported a cluster-mode environment of its own (the tests' cluster-test.env)."""
    if os.environ.get("TRIAGE_STACK_MODE") == "cluster":
        return
    for line in (ROOT / "scripts" / "cluster-stack.env").read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            name, _, value = line.partition("=")
            os.environ[name] = value


load_cluster_env()
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "scripts"))

import psycopg  # noqa: E402
from bench_pipeline import nltk_in_process_rate, throughput  # noqa: E402
from stack import product  # noqa: E402
from stack.cli import COMPONENTS  # noqa: E402

from ingest import loadgen  # noqa: E402
from triage_core.config import addresses  # noqa: E402

SHAPES = [(1, 1), (2, 1), (1, 2), (2, 2)]
STACK = [sys.executable, str(ROOT / "scripts" / "stack")]


def stack(*args: str) -> None:
    subprocess.run([*STACK, *args], check=True, capture_output=True, text=True, timeout=300)


def wait(predicate, *, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.5)


def stream_cores() -> int:
    app = product.stream_application()
    return app["cores"] if app else 0


def shape(workers: int, replicas: int) -> None:
    """Brings the second worker and the second replica up or down, and waits until the
    stream runs on `workers` executors and HAProxy has `replicas` replicas to send to."""
    for name, wanted in (("spark-worker-2", workers == 2), ("scoring-2", replicas == 2)):
        running = COMPONENTS[name].running_pid() is not None
        if wanted and not running:
            stack("start", name)
        elif not wanted and running:
            stack("stop", name)
    wait(lambda: stream_cores() == workers, timeout=120, what=f"the stream on {workers} executor(s)")
    # HAProxy checks each replica every second and counts one down after 3 failed checks.
    time.sleep(5)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100_000, help="complaints per shape")
    parser.add_argument("--sample", type=int, default=5_000, help="texts for the in-process NLTK figure")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--max-seconds", type=float, default=900.0, help="bound on each shape's run")
    args = parser.parse_args(argv)
    if not COMPONENTS["stream"].healthy():
        raise SystemExit("the cluster-mode stream is not running: `make cluster-up` first")
    if product.SPARK_WORKER_COUNT != 2 or len(product.SCORING_REPLICAS) != 2:
        raise SystemExit("the benchmark compares 1 and 2 Spark workers and scoring replicas: run the stack with "
                         "TRIAGE_SPARK_WORKERS=2 and TRIAGE_SCORING_REPLICAS=2 (scripts/cluster-stack.env)")
    seed = args.seed if args.seed is not None else time.time_ns() % 2**31
    items = list(itertools.islice(loadgen.complaint_texts(seed), args.count))
    print(f"load-generator seed {seed}; {args.count:,} complaints per shape; "
          f"{os.cpu_count()} cores on this machine, shared by every process of the stack")
    nltk_rate = nltk_in_process_rate([item.text for item in items[:args.sample]])
    print(f"  NLTK VADER in-process (1 thread): {nltk_rate:,.0f} texts/s", flush=True)

    rates: dict[tuple[int, int], float] = {}
    try:
        for workers, replicas in SHAPES:
            shape(workers, replicas)
            fresh = [dataclasses.replace(item, id=str(uuid.uuid4())) for item in items]
            print(f"{workers} Spark worker(s), {replicas} scoring replica(s):", flush=True)
            with psycopg.connect(addresses().database_url) as conn:
                rates[workers, replicas] = throughput(conn, items=fresh, max_seconds=args.max_seconds)
            print(f"  {rates[workers, replicas]:,.0f} complaints/s", flush=True)
    finally:
        shape(2, 2)

    base = rates[1, 1]
    print()
    print(f"cluster mode, Kafka (3 nodes, RF 3) -> Spark standalone -> HAProxy -> scoring -> Postgres, "
          f"{args.count:,} complaints per shape:")
    print(f"  {'Spark workers':>13}  {'replicas':>8}  {'complaints/s':>12}  {'vs 1+1':>6}  {'vs NLTK':>7}")
    for (workers, replicas), rate in rates.items():
        print(f"  {workers:>13}  {replicas:>8}  {rate:>12,.0f}  {rate / base:>5.2f}x  {rate / nltk_rate:>6.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
