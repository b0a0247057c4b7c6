"""Working the queue at scale: search, the queue API and the SLA pass over many complaints.

    .venv/bin/python bench/bench_queue.py [--count 1000000] [--queries 40] [--keep]

Needs the local stack's Postgres (`make up`, or `.venv/bin/python scripts/stack start
postgres`). The run makes a database of its own (`triage_bench_queue`, dropped at the
end unless --keep), migrates it, and loads --count complaints with scores by COPY:
load-generator texts (ingest.loadgen, English), submitted over the last 60 days, 20 %
resolved, one in ten with a staff note. The search indexes are dropped for the load and
built after it, as a bulk import would. Then, through Django in this process (the views,
serializers and database, without the web server's HTTP):

- search: --queries searches of one or two words from the texts, `GET /api/search/`,
  p50/p95; baseline in the same run: the same search with index scans turned off, on
  three of the queries (what the GIN indexes save);
- the queue: `GET /api/queue/` (500 items, the staff queue's load) p50/p95;
- the SLA pass over every open complaint (due times, state, queue rank written by COPY),
  then the worker's next pass, which reads only the complaints whose turn has come;
  baseline in the same run: the escalation policy's re-rank of the same complaints (the
  other whole-queue pass, issue 8's bar of 800k open complaints);
- the operational reports: the reports worker's refresh (the first one judges every
  resolved complaint's SLA, the next only what was resolved since), then the admin's
  `GET /manage/reports/` (the last 30 days, everything) p50/p95; baseline in the same
  run: the same figures aggregated from the complaint tables (the query of the
  materialised view, what each request would run without it).

Resolved complaints have a first reply and a resolution by one of 20 agents, with a
resolution event, and one in four a rating; one in three open ones is held by an agent.

Targets (issue 11): search p95 < 300 ms, queue p95 < 200 ms, SLA pass < 30 s, reports page
< 1 s at 1M.
Bounded: --count rows, --queries requests; nothing is sent beyond loopback.
"""
from __future__ import annotations

import argparse
import itertools
import json
import os
import random
import secrets
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
from tqdm import tqdm

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ingest.loadgen import complaint_texts  # noqa: E402
from triage_core.config import addresses  # noqa: E402
from triage_core.priority import CATEGORY_WEIGHTS  # noqa: E402

BENCH_DB = "triage_bench_queue"
TARGET_SEARCH_P95_MS = 300.0
TARGET_QUEUE_P95_MS = 200.0
TARGET_SLA_S = 30.0
TARGET_REPORTS_MS = 1000.0
AGENTS = 20
FTS_INDEXES = ("triage_complaint_fts_ru", "triage_event_fts_ru")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


# The stack's own database, to create and drop the bench's from (read before the run
# points TRIAGE_DATABASE_URL at the bench's).
MAINTENANCE_URL = addresses().database_url


def bench_url() -> str:
    return MAINTENANCE_URL.rsplit("/", 1)[0] + "/" + BENCH_DB


def recreate_database() -> None:
    with psycopg.connect(MAINTENANCE_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{BENCH_DB}"')
        conn.execute(f'CREATE DATABASE "{BENCH_DB}"')


def drop_database(*, wait_s: float = 300.0) -> None:
    """Drop the bench's database. FORCE cannot end an autovacuum worker (another role's
    process) still analysing a million fresh rows: wait for it to finish."""
    deadline = time.monotonic() + wait_s
    with psycopg.connect(MAINTENANCE_URL, autocommit=True) as conn:
        while True:
            try:
                conn.execute(f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)')
                return
            except psycopg.errors.InsufficientPrivilege:
                if time.monotonic() > deadline:
                    raise
                time.sleep(5)


def load(count: int, seed: int, agents: list[int]) -> None:
    """COPY `count` complaints, their scores, a note for one in ten, and the work of
    `agents` (user ids) on them."""
    rng = random.Random(seed)
    now = datetime.now(UTC)
    categories = list(CATEGORY_WEIGHTS)
    texts = complaint_texts(seed)
    with psycopg.connect(bench_url()) as conn:
        # The migrations' own definitions, to build again after the load.
        definitions = [row[0] for row in conn.execute(
            "SELECT indexdef FROM pg_indexes WHERE indexname = ANY(%s)", [list(FTS_INDEXES)])]
        for index in FTS_INDEXES:
            conn.execute(f"DROP INDEX IF EXISTS {index}")
        with conn.cursor() as cur, tqdm(total=count, desc="loading complaints", unit="row") as bar:
            rows = []
            for n, item in enumerate(itertools.islice(texts, count)):
                cid = uuid.UUID(int=rng.getrandbits(128), version=4)
                created = now - timedelta(minutes=rng.randrange(60 * 24 * 60))
                status = "resolved" if rng.random() < 0.2 else rng.choice(["analysed", "in_review", "awaiting_staff"])
                rows.append((cid, created, status, item.text, *_work(rng, status, created, now, agents)))
                if len(rows) == 50000 or n == count - 1:
                    _copy_batch(cur, rows, rng, categories, now)
                    bar.update(len(rows))
                    rows = []
        conn.commit()
        with tqdm(total=len(definitions), desc="building search indexes", unit="index") as bar:
            for sql in definitions:
                conn.execute(sql)
                bar.update(1)
        conn.execute("ANALYZE")
        conn.commit()


def _work(rng: random.Random, status: str, created: datetime, now: datetime,
          agents: list[int]) -> tuple[datetime | None, datetime | None, int | None]:
    """(first reply, resolution, agent) of a complaint: a resolved one was answered within
    two days and resolved within five more by an agent; a third of the open ones are held."""
    if status == "resolved":
        replied = min(now, created + timedelta(minutes=rng.randrange(5, 2 * 24 * 60)))
        return replied, min(now, replied + timedelta(minutes=rng.randrange(1, 5 * 24 * 60))), rng.choice(agents)
    return None, None, rng.choice(agents) if rng.random() < 1 / 3 else None


def _copy_batch(cur, rows, rng: random.Random, categories: list[str], now: datetime) -> None:
    with cur.copy("COPY triage_complaint (id, tracking_code, text, source, status, created_at, updated_at, language,"
                  " first_reply_at, resolved_at, claimed_by_id) FROM STDIN") as copy:
        for cid, created, status, text, replied, resolved, agent in rows:
            copy.write_row((cid, secrets.token_hex(10), text, "loadgen", status, created, created, "en", replied,
                            resolved, agent))
    with cur.copy("COPY triage_score (complaint_id, model_name, model_version, arm, experiment_version, compound,"
                  " neg, neu, pos, label, category, signals, explanation, language, complaint_probability,"
                  " priority, escalated, policy_version, kafka_topic, kafka_partition, kafka_offset, enqueued_at,"
                  " scored_at, scoring_ms, revision) FROM STDIN") as copy:
        for n, (cid, created, *_) in enumerate(rows):
            compound = round(rng.uniform(-1, 0.5), 4)
            priority = round(rng.uniform(0, 100), 2)
            copy.write_row((cid, "triage", "2.0.0", "A", 1, compound, max(0.0, -compound), 1 - abs(compound),
                            max(0.0, compound), "negative" if compound < -0.05 else "neutral", rng.choice(categories),
                            json.dumps({}), "", "en", round(rng.random(), 3), priority, priority >= 60, 1,
                            "complaints", 0, n, created, created + timedelta(seconds=1), 0.1, 0))
    with cur.copy("COPY triage_complaint_event (complaint_id, kind, status, public, body, created_at) FROM STDIN") \
            as copy:
        for cid, created, *_ in rows[::10]:
            copy.write_row((cid, "note", None, False, "Called the courier; the parcel is lost, refund agreed.",
                            created + timedelta(hours=1)))
    resolved = [(cid, when, agent) for cid, _, status, _, _, when, agent in rows if status == "resolved"]
    with cur.copy("COPY triage_complaint_event (complaint_id, kind, status, public, body, actor_id, created_at)"
                  " FROM STDIN") as copy:
        for cid, when, agent in resolved:
            copy.write_row((cid, "resolved", "resolved", True, "", agent, when))
    with cur.copy("COPY triage_satisfaction (complaint_id, rating, comment, agent_id, created_at, updated_at)"
                  " FROM STDIN") as copy:
        for cid, when, agent in resolved[::4]:
            copy.write_row((cid, rng.randint(1, 5), "", agent, when, when))


def timed_get(client, url: str, params: dict) -> float:
    started = time.perf_counter()
    response = client.get(url, params)
    elapsed = (time.perf_counter() - started) * 1000
    if response.status_code != 200:
        raise SystemExit(f"GET {url} {params} answered {response.status_code}: {response.content[:300]!r}")
    return elapsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=40)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--keep", action="store_true", help=f"keep the database {BENCH_DB} afterwards")
    args = parser.parse_args(argv)

    recreate_database()
    os.environ["TRIAGE_DATABASE_URL"] = bench_url()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    from triage_app import services
    from triage_app.models import EscalationPolicy
    from triage_app.startup import settle

    try:
        call_command("migrate", verbosity=0)
        users = get_user_model().objects
        agents = [users.create_user(username=f"agent-{n:02d}", is_staff=True).pk for n in range(AGENTS)]
        load(args.count, args.seed, agents)
        staff = users.create_user(username=f"bench-{secrets.token_hex(4)}", is_staff=True)
        client = Client(HTTP_HOST="127.0.0.1")
        client.force_login(staff)
        rng = random.Random(args.seed)
        vocabulary = sorted({w.strip(".,!?").lower() for item in itertools.islice(complaint_texts(args.seed), 2000)
                             for w in item.text.split() if len(w) > 4})
        queries = [" ".join(rng.sample(vocabulary, rng.choice([1, 2]))) for _ in range(args.queries)]

        settle()  # as config/asgi.py does in the web server before its first request
        timed_get(client, "/api/search/", {"q": queries[0]})  # warm the caches once
        search_ms = [timed_get(client, "/api/search/", {"q": q}) for q in tqdm(queries, desc="search", unit="query")]
        with connection.cursor() as cursor:
            cursor.execute("SET enable_bitmapscan = off")
            cursor.execute("SET enable_indexscan = off")
        baseline_ms = [timed_get(client, "/api/search/", {"q": q})
                       for q in tqdm(queries[:3], desc="search without its indexes (baseline)", unit="query")]
        with connection.cursor() as cursor:
            cursor.execute("RESET enable_bitmapscan")
            cursor.execute("RESET enable_indexscan")
        queue_ms = [timed_get(client, "/api/queue/", {}) for _ in tqdm(range(20), desc="queue", unit="request")]

        started = time.perf_counter()
        first_pass = services.sla_pass(full=True)
        sla_s = time.perf_counter() - started
        started = time.perf_counter()
        second_pass = services.sla_pass()
        sla_again_s = time.perf_counter() - started
        started = time.perf_counter()  # an admin's new SLA policy: every open complaint again, in the request
        services.sla_policy_create(by=None, values={"at_risk_fraction": 0.7})
        sla_policy_s = time.perf_counter() - started
        started = time.perf_counter()
        reranked = services.complaints_reevaluate(policy=EscalationPolicy.objects.order_by("-version").first())
        rerank_s = time.perf_counter() - started

        first_refresh = services.reports_refresh()
        next_refresh = services.reports_refresh()
        admin = users.create_superuser(username=f"bench-admin-{secrets.token_hex(4)}", password=None)
        client.force_login(admin)
        timed_get(client, "/manage/reports/", {})  # warm the caches once
        reports_ms = [timed_get(client, "/manage/reports/", {})
                      for _ in tqdm(range(20), desc="reports page", unit="request")]
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_get_viewdef('triage_report_period'::regclass)")
            definition = cursor.fetchone()[0]
            started = time.perf_counter()
            cursor.execute(definition)
            cursor.fetchall()
            reports_base_s = time.perf_counter() - started
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep:
            drop_database()

    search_p95, base = percentile(search_ms, 95), statistics.median(baseline_ms)
    queue_p95 = percentile(queue_ms, 95)
    print(f"\n{args.count:,} complaints ({first_pass.evaluated:,} open), {args.queries} searches, "
          f"{len(queue_ms)} queue loads")
    print(f"{'measure':58} {'figure':>16}  target")
    print(f"{'search GET /api/search/ p50 / p95':58} {statistics.median(search_ms):7.0f} / {search_p95:4.0f} ms"
          f"  p95 < {TARGET_SEARCH_P95_MS:.0f} ms: {'met' if search_p95 < TARGET_SEARCH_P95_MS else 'NOT met'}")
    print(f"{'  baseline: the same search without its indexes (median)':58} {base:13.0f} ms"
          f"  -> indexes {base / statistics.median(search_ms[:3]):.0f}x faster")
    print(f"{'queue GET /api/queue/ (500 items) p50 / p95':58} {statistics.median(queue_ms):7.0f} / {queue_p95:4.0f} ms"
          f"  p95 < {TARGET_QUEUE_P95_MS:.0f} ms: {'met' if queue_p95 < TARGET_QUEUE_P95_MS else 'NOT met'}")
    print(f"{'SLA pass: every open complaint / the next pass (only those due)':58} {sla_s:7.1f} / {sla_again_s:4.1f} s"
          f"  < {TARGET_SLA_S:.0f} s: {'met' if sla_s < TARGET_SLA_S else 'NOT met'} "
          f"({first_pass.changed:,} then {second_pass.evaluated:,} evaluated, {second_pass.changed:,} written)")
    print(f"{'SLA pass after a new SLA policy (every open complaint)':58} {sla_policy_s:7.1f} s"
          f"  < {TARGET_SLA_S:.0f} s: {'met' if sla_policy_s < TARGET_SLA_S else 'NOT met'}")
    print(f"{'  baseline: the policy re-rank of the same complaints':58} {rerank_s:13.1f} s"
          f"  -> SLA pass {sla_s / rerank_s:.2f}x its time ({reranked:,} rows changed)")
    reports_p95 = percentile(reports_ms, 95)
    print(f"{'reports GET /manage/reports/ (last 30 days) p50 / p95':58} {statistics.median(reports_ms):7.0f} /"
          f" {reports_p95:4.0f} ms  p95 < {TARGET_REPORTS_MS:.0f} ms: "
          f"{'met' if reports_p95 < TARGET_REPORTS_MS else 'NOT met'}")
    print(f"{'  baseline: its figures aggregated from the complaint tables':58} {reports_base_s:13.1f} s"
          f"  -> materialised {reports_base_s * 1000 / statistics.median(reports_ms):.0f}x faster")
    print(f"{'reports refresh (the worker): the first / the next':58} {first_refresh.seconds:7.1f} /"
          f" {next_refresh.seconds:4.1f} s  ({first_refresh.outcomes_recorded:,} then"
          f" {next_refresh.outcomes_recorded:,} SLA outcomes recorded)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
