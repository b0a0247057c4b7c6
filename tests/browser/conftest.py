"""A live app for headless Chromium: daphne and the score listener as subprocesses on
free loopback ports, sharing the pytest test database and a private Redis (so a push
from the listener process reaches the browser through daphne, as in production).

Needs Debian's chromium (/usr/bin/chromium) and redis-server; without them the tests
skip, and in CI (CI=true) fail (tests/conftest.py).
Screenshots go to test-artifacts/browser/.
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "browser"
CHROMIUM = os.environ.get("TRIAGE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
STAFF_PASSWORD = "browser-staff-pw-1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(check, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except Exception:  # not up yet: connection refused and the like
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{what} did not come up within {timeout:.0f}s")


@pytest.fixture(scope="session")
def redis_url():
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed (apt-get install redis-server)")
    port = free_port()
    workdir = tempfile.mkdtemp(prefix="triage-browser-redis-")
    proc = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                             "--dir", workdir], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_until(lambda: socket.create_connection(("127.0.0.1", port), timeout=0.5).close() or True, 15, "redis")
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        proc.wait(10)
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture(scope="session")
def live_app(django_db_setup, django_db_blocker, redis_url):
    """Base URL of a daphne serving the test database; stopped before the database is dropped."""
    from django.conf import settings

    db = settings.DATABASES["default"]
    database_url = (f"postgresql://{quote(db['USER'])}:{quote(db['PASSWORD'])}@{db['HOST']}:{db['PORT']}/"
                    f"{quote(db['NAME'])}")
    port = free_port()
    env = {**os.environ, "TRIAGE_DATABASE_URL": database_url, "TRIAGE_REDIS_URL": redis_url,
           "DJANGO_SETTINGS_MODULE": "config.settings.local", "TRIAGE_DEBUG": "0",
           "DJANGO_SECRET_KEY": "browser-tests-only-secret-key-0123456789abcdefghijkl",
           # No Kafka in these tests: the outbox keeps the messages, the producer gives up fast.
           "TRIAGE_KAFKA_BOOTSTRAP": f"127.0.0.1:{free_port()}", "TRIAGE_KAFKA_MESSAGE_TIMEOUT_MS": "1000",
           "TRIAGE_SCORING_URL": f"http://127.0.0.1:{free_port()}",
           # The socket's allowed origins follow the web port (settings.TRIAGE_WS_ORIGINS).
           "TRIAGE_WEB_PORT": str(port),
           "PYTHONUNBUFFERED": "1"}
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    logs = {name: open(ARTIFACTS / f"{name}.log", "w") for name in ("daphne", "listener")}
    procs = [
        subprocess.Popen([sys.executable, "-m", "triage_app.serve", "-b", "127.0.0.1", "-p", str(port),
                          "config.asgi:application"], cwd=ROOT, env=env, stdout=logs["daphne"],
                         stderr=subprocess.STDOUT),
        subprocess.Popen([sys.executable, "manage.py", "score_listener"], cwd=ROOT, env=env,
                         stdout=logs["listener"], stderr=subprocess.STDOUT),
    ]
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: requests.get(base + "/", timeout=2).status_code == 200, 60, "daphne")
        wait_until(lambda: "listening on" in (ARTIFACTS / "listener.log").read_text(), 30, "score listener")
        yield base
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
        for log in logs.values():
            log.close()


@pytest.fixture
def browser(_django_db_helper):
    """One Chromium per test, started after the test database is set up for the test and
    closed before it is flushed: while Playwright's loop runs, Django's connection
    handler sees another context, and serialized_rollback would restore nothing."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} not found (apt-get install chromium chromium-driver)")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop running in this thread; the ORM calls the
    # tests make are still plain synchronous code (Django documents this switch for it).
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    playwright = sync_playwright().start()
    chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
    try:
        yield chromium
    finally:
        from django.db import connections

        # Close the connections the test body opened in Playwright's context, or the
        # test database cannot be dropped at the end of the session.
        connections.close_all()
        chromium.close()
        playwright.stop()


@pytest.fixture
def screenshot(request):
    """screenshot(page, "step") saves test-artifacts/browser/<test>-<n>-<step>.png."""
    counter = iter(range(1, 100))

    def take(page, step: str) -> Path:
        path = ARTIFACTS / f"{request.node.name}-{next(counter):02d}-{step}.png"
        page.screenshot(path=str(path), full_page=True)
        return path
    return take


@pytest.fixture
def new_page(browser, live_app):
    contexts = []

    def make():
        context = browser.new_context(base_url=live_app, viewport={"width": 1200, "height": 900})
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context.new_page()
    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def staff_login():
    """Create a staff user and return a function that logs a page in as them."""
    from django.contrib.auth import get_user_model

    def login(page, username: str = "sam", admin: bool = False):
        if not get_user_model().objects.filter(username=username).exists():
            get_user_model().objects.create_user(username=username, password=STAFF_PASSWORD, is_staff=True,
                                                 is_superuser=admin)
        return log_in_to_live_queue(page, username, STAFF_PASSWORD)
    return login


def log_in_to_live_queue(page, username: str, password: str):
    """Log in through the real form and wait until the queue's WebSocket is live."""
    page.goto("/accounts/login/?next=/staff/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.press("#id_password", "Enter")
    page.wait_for_url("**/staff/")
    page.wait_for_selector("#live-status[data-state='live']")
    return page
