"""End-to-end latency: customer submit -> staff screen, with a real WebSocket client.

    .venv/bin/python bench/bench_live.py --rate 100 --seconds 20

Needs the stack up (`make up`). A staff user's browser session is opened on
ws://127.0.0.1:8000/ws/queue/; complaints are submitted through the public API at a
steady rate; for each one the time from just before its POST to the WebSocket message
that carries it is recorded. In the same run, the time from submit to the Postgres
commit of its score (`scored_at - created_at`) is the baseline: the difference is what
the live push (NOTIFY -> listener -> Redis -> Channels -> socket) adds.

The web server is restarted with the public rate limit raised for the run (one client
submits 100/s) and restarted with its normal settings at the end. Bounded: it submits
rate x seconds complaints and waits at most --drain seconds for the last of them.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psycopg
import requests
import websockets
from tqdm import tqdm

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ingest.loadgen import complaint_texts  # noqa: E402
from triage_core.config import addresses  # noqa: E402

WEB = "http://127.0.0.1:8000"
STACK = [sys.executable, str(ROOT / "scripts" / "stack")]
TARGET_P99_S = 2.0


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def restart_web(extra_env: dict[str, str]) -> None:
    env = {**os.environ, **extra_env}
    subprocess.run([*STACK, "restart", "web"], check=True, env=env, capture_output=True)


def staff_session() -> requests.Session:
    """Log a throwaway staff user in through the real login form."""
    password = secrets.token_urlsafe(16)
    script = ("from django.contrib.auth import get_user_model; U = get_user_model(); "
              "u, _ = U.objects.get_or_create(username='bench-staff'); u.is_staff = True; "
              f"u.set_password('{password}'); u.save()")
    subprocess.run([sys.executable, "manage.py", "shell", "-c", script], cwd=ROOT, check=True, capture_output=True)
    session = requests.Session()
    session.get(f"{WEB}/accounts/login/", timeout=10)
    response = session.post(f"{WEB}/accounts/login/", timeout=10, allow_redirects=False,
                            data={"username": "bench-staff", "password": password,
                                  "csrfmiddlewaretoken": session.cookies["csrftoken"]},
                            headers={"Referer": f"{WEB}/accounts/login/"})
    if "sessionid" not in session.cookies:
        raise SystemExit(f"staff login failed ({response.status_code})")
    return session


async def listen(cookie: str, seen: dict[str, float], ready: threading.Event, stop: threading.Event) -> None:
    headers = {"Cookie": cookie, "Origin": WEB}
    async with websockets.connect("ws://127.0.0.1:8000/ws/queue/", additional_headers=headers,
                                  max_size=None) as socket:
        ready.set()
        while not stop.is_set():
            try:
                raw = await asyncio.wait_for(socket.recv(), timeout=0.5)
            except TimeoutError:
                continue
            now = time.time()
            message = json.loads(raw)
            for item in message.get("items", []):
                seen.setdefault(item["id"], now)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rate", type=float, default=100.0)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--drain", type=float, default=60.0)
    parser.add_argument("--clients", type=int, default=16, help="concurrent customers")
    parser.add_argument("--warmup", type=float, default=10.0, help="seconds sent first and not measured")
    args = parser.parse_args(argv)
    count = int(args.rate * args.seconds)

    restart_web({"TRIAGE_SUBMIT_RATE": "1000000/60"})
    try:
        session = staff_session()
        cookie = "; ".join(f"{k}={v}" for k, v in session.cookies.items())
        seen: dict[str, float] = {}
        ready, stop = threading.Event(), threading.Event()
        listener = threading.Thread(target=lambda: asyncio.run(listen(cookie, seen, ready, stop)), daemon=True)
        listener.start()
        if not ready.wait(15):
            raise SystemExit("could not open the staff WebSocket")

        # Customers are many independent clients: a pool of them, each submission sent at
        # its scheduled time (a steady rate), none waiting for another's answer.
        submitted: dict[str, float] = {}
        failures: list[str] = []
        texts = complaint_texts(seed=int(time.time()))
        local = threading.local()

        def send(text: str, measured: bool) -> None:
            client = getattr(local, "client", None) or requests.Session()
            local.client = client
            t0 = time.time()
            response = client.post(f"{WEB}/api/complaints/", json={"text": text}, timeout=30)
            if response.status_code != 201:
                failures.append(f"{response.status_code} {response.text[:200]}")
                return
            if measured:
                submitted[response.json()["id"]] = t0

        # The first --warmup seconds are sent but not measured: a freshly started Spark
        # job's first micro-batches are slow (JIT, Python workers starting).
        warm = int(args.rate * args.warmup)
        started = time.monotonic()
        with ThreadPoolExecutor(max_workers=args.clients) as pool:
            for n in tqdm(range(warm + count), desc=f"submitting at {args.rate:g}/s", unit="complaint"):
                delay = started + n / args.rate - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                pool.submit(send, next(texts).text, n >= warm)
        achieved = (warm + count) / (time.monotonic() - started)
        if failures:
            raise SystemExit(f"{len(failures)} submissions failed, first: {failures[0]}")

        deadline = time.monotonic() + args.drain
        with tqdm(total=count, desc="waiting for the staff screen", unit="complaint") as bar:
            while time.monotonic() < deadline:
                arrived = sum(1 for cid in list(submitted) if cid in seen)
                bar.update(arrived - bar.n)
                if arrived == count:
                    break
                time.sleep(0.2)
        stop.set()
        listener.join(5)

        with psycopg.connect(addresses().database_url) as conn:
            rows = conn.execute(
                "SELECT c.id::text, extract(epoch FROM s.scored_at - c.created_at) FROM triage_complaint c "
                "JOIN triage_score s ON s.complaint_id = c.id WHERE c.id = ANY(%s::uuid[])",
                (list(submitted),)).fetchall()
    finally:
        restart_web({})

    screen = [seen[cid] - t0 for cid, t0 in submitted.items() if cid in seen]
    commit = [float(seconds) for _, seconds in rows]
    missing = count - len(screen)
    print()
    print(f"submitted {count} measured complaints (after {args.warmup:g}s of warm-up) at {achieved:.1f}/s "
          f"(target {args.rate:g}/s); "
          f"{len(screen)} reached the staff screen, {missing} did not within {args.drain:.0f}s")
    if not screen:
        return 1
    print(f"{'path':<40} {'p50 s':>8} {'p99 s':>8} {'max s':>8}")
    print(f"{'submit -> score committed (baseline)':<40} {statistics.median(commit):8.3f} "
          f"{percentile(commit, 99):8.3f} {max(commit):8.3f}")
    print(f"{'submit -> staff WebSocket':<40} {statistics.median(screen):8.3f} "
          f"{percentile(screen, 99):8.3f} {max(screen):8.3f}")
    p99 = percentile(screen, 99)
    print(f"live push adds {statistics.median(screen) - statistics.median(commit):+.3f} s at p50; "
          f"p99 / target ({TARGET_P99_S:g} s) = {p99 / TARGET_P99_S:.2f} "
          f"({'meets' if p99 <= TARGET_P99_S else 'misses'} the target)")
    return 0 if missing == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
