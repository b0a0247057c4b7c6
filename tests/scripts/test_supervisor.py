"""scripts/stack/supervisor.py: what is restarted, when, and log rotation."""
from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))
from stack import supervisor  # noqa: E402


@dataclass
class FakeComponent:
    """A component whose process is alive while `pid` is set; start() brings it back."""
    pid: int | None = 1
    starts: list[float] = field(default_factory=list)
    before_start = None
    respawn = None

    def running_pid(self) -> int | None:
        return self.pid

    def start(self) -> None:
        self.starts.append(len(self.starts))
        self.pid = 100 + len(self.starts)


@pytest.fixture(autouse=True)
def run_dir(tmp_path, monkeypatch):
    monkeypatch.setattr(supervisor, "RUN", tmp_path)
    monkeypatch.setattr(supervisor, "log", lambda message: None)
    return tmp_path


def test_a_wanted_component_that_died_is_started_again_and_an_unwanted_one_is_not():
    relay, mail = FakeComponent(pid=None), FakeComponent(pid=None)
    supervisor.want("relay")  # `stack start relay`; mail was stopped with `stack stop`
    history: dict = {}
    assert supervisor.check({"relay": relay, "mail": mail}, ["relay", "mail"], history, now=1000.0) == ["relay"]
    assert relay.pid == 101 and mail.starts == []
    # Alive: left alone.
    assert supervisor.check({"relay": relay, "mail": mail}, ["relay", "mail"], history, now=1001.0) == []
    supervisor.unwant("relay")
    relay.pid = None
    assert supervisor.check({"relay": relay}, ["relay"], history, now=1002.0) == []


def test_a_process_that_keeps_dying_waits_longer_each_time_and_a_stable_one_does_not():
    web = FakeComponent(pid=None)
    supervisor.want("web")
    history: dict = {}
    now = 0.0
    started_at = []
    # It dies right after each start, for two minutes.
    while now < 120.0:
        if supervisor.check({"web": web}, ["web"], history, now):
            started_at.append(now)
            web.pid = None
        now += 0.5
    # Each death is seen at the next check, 0.5 s after its start; then the back-off.
    waits = [b - a - 0.5 for a, b in zip(started_at, started_at[1:])]
    assert started_at[0] == 0.0 and waits[:5] == [1.0, 2.0, 4.0, 8.0, 16.0]
    assert max(waits) == supervisor.DELAY_MAX_S
    # After a run longer than STABLE_S the next crash is restarted at once.
    web.pid = 7
    stable_until = now + supervisor.STABLE_S + 1
    assert supervisor.check({"web": web}, ["web"], history, stable_until) == []
    web.pid = None
    assert supervisor.check({"web": web}, ["web"], history, stable_until) == ["web"]


def test_a_log_past_its_size_is_copied_and_truncated_in_place(tmp_path):
    path = tmp_path / "web.log"
    path.write_bytes(b"x" * 100)
    assert not supervisor.rotate(path, max_bytes=100)
    with open(path, "ab") as writer:  # as a process holds its log: append mode
        writer.write(b"y")
        writer.flush()
        assert supervisor.rotate(path, max_bytes=100, keep=2)
        writer.write(b"after")
        writer.flush()
    assert path.read_bytes() == b"after"
    assert (tmp_path / "web.log.1").read_bytes() == b"x" * 100 + b"y"
    path.write_bytes(b"z" * 200)
    assert supervisor.rotate(path, max_bytes=100, keep=2)
    assert (tmp_path / "web.log.2").read_bytes() == b"x" * 100 + b"y"
    assert (tmp_path / "web.log.1").read_bytes() == b"z" * 200
    assert not (tmp_path / "web.log.3").exists()
    assert not supervisor.rotate(tmp_path / "missing.log", max_bytes=1)
