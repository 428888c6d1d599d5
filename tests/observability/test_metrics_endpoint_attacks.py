"""The /metrics endpoint under hostile clients: a bounded number of connection threads, silent
connections dropped, no traceback written, and scrapes still answered once the flood is gone.

A thousand connections each starting a request and then closing used to start a thousand
threads that each built the whole exposition holding the GIL, starving the gRPC event loop
of the same process for tens of seconds.
"""

from __future__ import annotations

import socket
import threading
import time
import urllib.request

import pytest
from prometheus_client import CollectorRegistry, Counter

from jixiao.observability import exposition


@pytest.fixture
def endpoint(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(exposition._QuietHandler, "timeout", 0.5)
    registry = CollectorRegistry()
    Counter("attack_probe", "A metric to find in the scrape.", registry=registry).inc()
    served = exposition.MetricsEndpoint("127.0.0.1", 0, registry)
    yield served
    served.close()


def scrape(port: int) -> bytes:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as reply:
        return reply.read()


def test_a_flood_of_partial_requests_holds_a_bounded_number_of_threads(endpoint, capfd) -> None:
    before = threading.active_count()
    flood = []
    for _ in range(200):
        connection = socket.create_connection(("127.0.0.1", endpoint.port), timeout=5)
        connection.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n")  # never ends its headers
        flood.append(connection)
    time.sleep(0.2)
    assert threading.active_count() - before <= exposition.MAX_CONNECTIONS
    for connection in flood:  # the requests end at once: at most MAX_CONNECTIONS scrapes are built
        connection.close()
    deadline = time.monotonic() + 10
    while threading.active_count() > before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert b"attack_probe_total 1.0" in scrape(endpoint.port)
    assert "Traceback" not in capfd.readouterr().err


def test_a_silent_connection_is_dropped_and_nothing_is_printed(endpoint, capfd) -> None:
    with socket.create_connection(("127.0.0.1", endpoint.port), timeout=5) as silent:
        silent.sendall(b"GET /met")
        started = time.monotonic()
        assert silent.recv(100) == b""  # closed by the server, well before this socket's own 5 s
        assert time.monotonic() - started < 4
    assert b"attack_probe_total" in scrape(endpoint.port)
    assert "Traceback" not in capfd.readouterr().err
