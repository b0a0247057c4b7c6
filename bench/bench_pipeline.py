"""End-to-end pipeline benchmark on the running local stack (`make up` first).

In one run, on the same load-generator texts:

1. baselines on a sample (default 5,000 texts):
   - NLTK VADER in-process, one thread (the machine's limit for the seed model);
   - the classic demo's approach: a Spark (local[2]) Python UDF that calls
     `POST /predict {"data": text}` once per row, without keep-alive, as the demo did;
2. throughput: 100,000 complaints produced to Kafka with the load generator as fast as it
   goes; the time from the first produce until the last score is committed in Postgres
   (max `scored_at`), hence complaints/s and its ratio to both baselines;
3. latency: complaints at a steady 100/s for --latency-seconds; p50/p99 of
   `scored_at - enqueued_at` (Kafka record timestamp -> Postgres commit);
4. peak memory (PSS) of the whole local stack (every process scripts/stack started, with its
   children: Kafka's and Spark's JVMs, Python workers, gunicorn workers, Postgres backends),
   sampled every 0.5 s during 2 and 3.

Everything is on loopback and bounded (--max-seconds per phase). Targets (issue 4):
pipeline >= 1.0x in-process NLTK (issue 8's bar with the default model), >= 10x the per-row UDF, p99 <= 2 s.

    .venv/bin/python bench/bench_pipeline.py [--count 100000] [--sample 5000]
        [--latency-rate 100] [--latency-seconds 30] [--seed N]
"""
from __future__ import annotations

import argparse
import itertools
import os
import sys
import threading
import time
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

import psycopg
from tqdm import tqdm

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ingest import loadgen  # noqa: E402
from triage_core.config import addresses, var_dir  # noqa: E402

TARGET_VS_NLTK = 1.0
TARGET_VS_PER_ROW = 10.0
TARGET_P99_S = 2.0


# --------------------------------------------------------------------------- baselines

def nltk_in_process_rate(texts: Sequence[str]) -> float:
    from scoring_service.vader import nltk_reference

    analyser = nltk_reference()
    analyser.polarity_scores("warm up the lexicon")
    started = time.perf_counter()
    for start in tqdm(range(0, len(texts), 250), desc="NLTK VADER in-process", unit="x250", leave=False):
        for text in texts[start:start + 250]:
            analyser.polarity_scores(text)
    return len(texts) / (time.perf_counter() - started)


def per_row_udf_rate(texts: Sequence[str], scoring_url: str) -> float:
    """The classic demo: a Spark UDF making one blocking HTTP call per row."""
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    from pyspark.sql import SparkSession
    from pyspark.sql import functions as F
    from pyspark.sql.types import DoubleType

    spark = (SparkSession.builder.master("local[2]").appName("bench-per-row-udf")
             .config("spark.driver.bindAddress", "127.0.0.1").config("spark.driver.host", "127.0.0.1")
             .config("spark.ui.enabled", "false").config("spark.ui.showConsoleProgress", "false")
             .getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    url = f"{scoring_url}/predict"
    auth = {"Authorization": f"Bearer {addresses().scoring_token}"}

    @F.udf(DoubleType())
    def score(text):
        import requests  # the demo's UDF: a new connection and one request per row

        return requests.post(url, json={"data": text}, headers=auth, timeout=30).json()["compound"]

    try:
        frame = spark.createDataFrame([(t,) for t in texts], "text string").repartition(2).cache()
        frame.count()
        print(f"  per-row HTTP UDF on {len(texts):,} rows (Spark local[2]) ...", flush=True)
        started = time.perf_counter()
        total = frame.select(score("text").alias("c")).where("c is not null").count()
        elapsed = time.perf_counter() - started
    finally:
        spark.stop()
    if total != len(texts):
        raise RuntimeError(f"per-row UDF scored {total} of {len(texts)} rows")
    return len(texts) / elapsed


# --------------------------------------------------------------------------- stack memory

def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            tree.setdefault(ppid, []).append(int(entry))
    return tree


def _pss_kib(pid: int) -> int:
    """The process' proportional set size: its private pages plus its share of pages
    it shares. RSS counted Postgres' shared buffers once per backend that had touched
    them: with the executors' connections, 7 GiB for a Postgres of ~1.5 GiB."""
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def stack_pss_mib() -> dict[str, float]:
    """PSS per component of scripts/stack (its PID files), children included."""
    tree = _children()
    usage = {}
    for pid_file in sorted((var_dir() / "run").glob("*.pid")):
        try:
            root = int(pid_file.read_text().strip())
        except ValueError:
            continue
        pids, todo = set(), [root]
        while todo:
            pid = todo.pop()
            if pid not in pids:
                pids.add(pid)
                todo.extend(tree.get(pid, []))
        usage[pid_file.stem] = sum(_pss_kib(p) for p in pids) / 1024.0
    return usage


class PeakMemory:
    def __init__(self, interval: float = 0.5):
        self.interval = interval
        self.peak_total = 0.0
        self.peak_by_component: dict[str, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            usage = stack_pss_mib()
            total = sum(usage.values())
            if total > self.peak_total:
                self.peak_total = total
                self.peak_by_component = usage
            self._stop.wait(self.interval)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


# --------------------------------------------------------------------------- the pipeline

def track_ids(conn: psycopg.Connection, table: str, ids: Sequence[str]) -> None:
    conn.execute(f"CREATE TEMP TABLE {table} (complaint_id uuid PRIMARY KEY)")
    with conn.cursor().copy(f"COPY {table} (complaint_id) FROM STDIN") as copy:
        for complaint_id in ids:
            copy.write_row((complaint_id,))
    conn.commit()


def scored_count(conn: psycopg.Connection, table: str) -> int:
    """How many of the complaints in `table` have a score: exact, and a join of the whole
    score table, so asked only when the cheap count says they may all be there."""
    count = conn.execute(f"SELECT count(*) FROM triage_score JOIN {table} USING (complaint_id)").fetchone()[0]
    conn.commit()
    return count


def wait_all_scored(conn: psycopg.Connection, table: str, total: int, *, since: datetime, max_seconds: float,
                    desc: str) -> None:
    """Waits until every complaint in `table` is scored.

    The progress poll counts scores stored since the phase began, along the scored_at
    index (nothing else scores during a phase); the exact join comes only once that
    count is complete. The join reads the whole score table: polled every 0.5 s it took
    ~0.4 s of a core each time at 400k scores, CPU the pipeline being measured lost.
    """
    deadline = time.monotonic() + max_seconds
    done = 0
    with tqdm(total=total, desc=desc, unit="complaint") as bar:
        while done < total:
            if time.monotonic() > deadline:
                raise SystemExit(f"only {done:,} of {total:,} scored after {max_seconds:.0f} s; "
                                 f"see var/log/stream.log")
            time.sleep(0.5)
            recent = conn.execute("SELECT count(*) FROM triage_score WHERE scored_at >= %s", (since,)).fetchone()[0]
            conn.commit()
            done = scored_count(conn, table) if recent >= total else min(recent, total - 1)
            bar.update(done - bar.n)


def throughput(conn: psycopg.Connection, *, items: Sequence[loadgen.GeneratedComplaint], max_seconds: float) -> float:
    ids = [item.id for item in items]
    track_ids(conn, "bench_throughput_ids", ids)
    started_wall = conn.execute("SELECT clock_timestamp()").fetchone()[0]
    conn.commit()
    from ingest.batch_send import send_all

    produced = threading.Thread(target=send_all, kwargs=dict(
        messages=(loadgen.message_for(item, classic=False) for item in items), total=len(items), rate=0,
        client_id="bench-pipeline", max_seconds=max_seconds, progress=False))
    produced.start()
    try:
        wait_all_scored(conn, "bench_throughput_ids", len(ids), since=started_wall, max_seconds=max_seconds,
                        desc="scored in Postgres")
    finally:
        produced.join()
    elapsed = conn.execute("SELECT extract(epoch FROM max(scored_at) - %s) FROM triage_score"
                           " JOIN bench_throughput_ids USING (complaint_id)", (started_wall,)).fetchone()[0]
    conn.commit()
    return len(ids) / float(elapsed)


def latency(conn: psycopg.Connection, *, items: Sequence[loadgen.GeneratedComplaint], rate: float,
            max_seconds: float) -> tuple[float, float, float]:
    from ingest.batch_send import send_all

    track_ids(conn, "bench_latency_ids", [item.id for item in items])
    started_wall = conn.execute("SELECT clock_timestamp()").fetchone()[0]
    conn.commit()
    send_all((loadgen.message_for(item, classic=False) for item in items), total=len(items), rate=rate,
             client_id="bench-latency", max_seconds=max_seconds, desc=f"producing at {rate:g}/s")
    wait_all_scored(conn, "bench_latency_ids", len(items), since=started_wall, max_seconds=max_seconds,
                    desc="scored in Postgres")
    p50, p99, worst = conn.execute("""
        SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY lag), percentile_cont(0.99) WITHIN GROUP (ORDER BY lag),
               max(lag)
        FROM (SELECT extract(epoch FROM scored_at - enqueued_at) AS lag
              FROM triage_score JOIN bench_latency_ids USING (complaint_id)) t""").fetchone()
    conn.commit()
    return float(p50), float(p99), float(worst)


def ready_or_exit() -> None:
    ready = var_dir() / "run" / "stream.ready"
    pid_file = var_dir() / "run" / "stream.pid"
    if not (ready.exists() and pid_file.exists() and ready.read_text().strip() == pid_file.read_text().strip()):
        raise SystemExit("the streaming job is not running: start the stack with `make up` first")


def verdict(ok: bool) -> str:
    return "meets target" if ok else "BELOW TARGET"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--sample", type=int, default=5_000)
    parser.add_argument("--latency-rate", type=float, default=100.0)
    parser.add_argument("--latency-seconds", type=float, default=30.0)
    parser.add_argument("--seed", type=int, default=None, help="load-generator seed (default: new each run, so "
                                                                "the complaints are new to the database)")
    parser.add_argument("--max-seconds", type=float, default=900.0, help="bound on each phase")
    args = parser.parse_args(argv)
    ready_or_exit()
    where = addresses()
    seed = args.seed if args.seed is not None else time.time_ns() % 2**31
    latency_count = int(args.latency_rate * args.latency_seconds)
    generated = list(itertools.islice(loadgen.complaint_texts(seed), args.count + latency_count))
    bulk, steady = generated[:args.count], generated[args.count:]
    sample = [item.text for item in bulk[:args.sample]]
    print(f"load-generator seed {seed}; {args.count:,} complaints, baselines on the first {len(sample):,} texts")

    nltk_rate = nltk_in_process_rate(sample)
    print(f"  NLTK VADER in-process (1 thread): {nltk_rate:,.0f} texts/s", flush=True)
    per_row_rate = per_row_udf_rate(sample, where.scoring_url)
    print(f"  per-row HTTP UDF (the demo):      {per_row_rate:,.0f} rows/s", flush=True)

    with psycopg.connect(where.database_url) as conn, PeakMemory() as memory:
        rate = throughput(conn, items=bulk, max_seconds=args.max_seconds)
        p50, p99, worst = latency(conn, items=steady, rate=args.latency_rate, max_seconds=args.max_seconds)

    print()
    print(f"pipeline, Kafka -> Spark -> scoring service -> Postgres, {args.count:,} complaints:")
    print(f"  {rate:,.0f} complaints/s")
    print(f"  {rate / nltk_rate:.2f}x in-process NLTK   (target >= {TARGET_VS_NLTK}x: "
          f"{verdict(rate >= TARGET_VS_NLTK * nltk_rate)})")
    print(f"  {rate / per_row_rate:.1f}x per-row HTTP UDF (target >= {TARGET_VS_PER_ROW:g}x: "
          f"{verdict(rate >= TARGET_VS_PER_ROW * per_row_rate)})")
    print(f"latency at a steady {args.latency_rate:g}/s for {args.latency_seconds:g} s "
          f"(Kafka record timestamp -> Postgres commit):")
    print(f"  p50 {p50 * 1000:,.0f} ms, p99 {p99 * 1000:,.0f} ms, max {worst * 1000:,.0f} ms "
          f"(target p99 <= {TARGET_P99_S:g} s: {verdict(p99 <= TARGET_P99_S)})")
    parts = ", ".join(f"{name} {mib:,.0f}" for name, mib in sorted(memory.peak_by_component.items(),
                                                                   key=lambda kv: -kv[1]))
    print(f"peak memory (PSS) of the local stack: {memory.peak_total:,.0f} MiB ({parts})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
