"""Test doubles shared by tests/triage_app, tests/ingest and tests/e2e; and Receiver, a
real HTTP server on loopback standing in for a webhook's far end."""
from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class FakeMessage:
    def __init__(self, topic: str, key: bytes, value: bytes):
        self._topic, self._key, self._value = topic, key, value

    def topic(self) -> str:
        return self._topic

    def key(self) -> bytes:
        return self._key

    def value(self) -> bytes:
        return self._value


class FakeProducer:
    """Stands in for confluent_kafka.Producer: queues messages, reports delivery on poll/flush.

    `fail_with` set to an error string makes every delivery report that error, as a
    broker that is down long enough for message.timeout.ms would.
    """

    def __init__(self, fail_with: str | None = None, reachable: bool = True):
        self.fail_with = fail_with
        self.reachable = reachable
        self.pending: list = []
        self.delivered: list[FakeMessage] = []
        self.polls = 0

    def produce(self, topic, value=None, key=None, on_delivery=None):
        self.pending.append((FakeMessage(topic, key, value), on_delivery))

    def _deliver(self) -> int:
        served = 0
        while self.pending:
            msg, callback = self.pending.pop(0)
            if self.fail_with is None:
                self.delivered.append(msg)
            if callback is not None:
                callback(self.fail_with, msg)
            served += 1
        return served

    def poll(self, timeout=0):
        self.polls += 1
        return self._deliver()

    def flush(self, timeout=None):
        self._deliver()
        return 0

    def list_topics(self, topic=None, timeout=None):
        if not self.reachable:
            from confluent_kafka import KafkaException

            raise KafkaException("broker unreachable (fake)")
        return object()


class Receiver:
    """An HTTP server on 127.0.0.1 answering the statuses it is given, one per call."""

    def __init__(self, statuses: list[int]):
        self.statuses, self.calls = statuses, []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.calls.append((dict(self.headers), body))
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
