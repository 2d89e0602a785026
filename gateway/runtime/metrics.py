"""Prometheus metrics of this process (each gateway process exports its own).

Counters are incremented where things happen (the pipeline); ``/metrics`` renders them.
A registry per ``GatewayState`` keeps tests and several apps in one process apart.

The metrics name partners and their volumes, so the API serves them to ops keys only;
``MetricsServer`` serves them instead on an address of their own (``metrics_bind``, e.g.
a loopback port a local Prometheus scrapes), where the address is the access control.
"""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

__all__ = ["Metrics", "MetricsServer", "parse_bind"]

log = logging.getLogger("edigate.app")


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.messages = Counter(
            "edigate_messages_total", "Messages by partner, standard, transaction type and "
            "final status", ["partner", "standard", "transaction_type", "status"],
            registry=self.registry)
        self.received = Counter(
            "edigate_messages_received_total", "Messages stored at intake",
            ["partner", "transport"], registry=self.registry)
        self.rejected_at_intake = Counter(
            "edigate_intake_rejections_total", "Requests refused at intake",
            ["reason"], registry=self.registry)
        self.processing_seconds = Histogram(
            "edigate_processing_seconds", "Time from claim to final status",
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
            registry=self.registry)
        self.receipt_to_ack_seconds = Histogram(
            "edigate_receipt_to_ack_seconds", "Time from receipt to acknowledgment built",
            buckets=(0.01, 0.05, 0.1, 0.5, 1, 5, 10, 60, 300, 3600),
            registry=self.registry)

        self.intake_batch_size = Histogram(
            "edigate_intake_batch_messages", "Messages stored per intake transaction "
            "(group commit)", buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256),
            registry=self.registry)
        self.intake_commit_seconds = Histogram(
            "edigate_intake_commit_seconds", "Duration of one intake transaction",
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1),
            registry=self.registry)

        self.as2_messages = Counter(
            "edigate_as2_messages_total", "AS2 messages by partner, direction and outcome",
            ["partner", "direction", "outcome"], registry=self.registry)
        self.certificate_expiry_days = Gauge(
            "edigate_certificate_expiry_days", "Days until a certificate in use expires "
            "(owner 'edigate' is the gateway's own AS2 certificate)", ["owner", "sha256"],
            registry=self.registry)

    def watch(self, name: str, documentation: str, labels: Sequence[str],
              read: Callable[[], Iterable[tuple[Sequence[str], float]]]) -> None:
        """A gauge whose samples ``read`` gives each time the metrics are rendered: for
        figures the database holds (and any process may change), not this process."""
        self.registry.register(_Watched(name, documentation, labels, read))

    def render(self) -> bytes:
        return generate_latest(self.registry)


class _Watched(Collector):
    def __init__(self, name: str, documentation: str, labels: Sequence[str],
                 read: Callable[[], Iterable[tuple[Sequence[str], float]]]) -> None:
        self.name = name
        self.documentation = documentation
        self.labels = list(labels)
        self.read = read

    def describe(self) -> Iterator[Metric]:
        yield GaugeMetricFamily(self.name, self.documentation, labels=self.labels)

    def collect(self) -> Iterator[Metric]:
        family = GaugeMetricFamily(self.name, self.documentation, labels=self.labels)
        try:
            for values, sample in self.read():
                family.add_metric(list(values), sample)
        except Exception:  # a scrape must not fail because the database is away
            log.warning("metric %s could not be read", self.name, exc_info=True)
            return
        yield family


def parse_bind(bind: str) -> tuple[str, int]:
    """``"host:port"`` (``"[::1]:9100"`` for IPv6) as a (host, port) pair."""
    host, sep, port = bind.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ValueError(f"metrics_bind must be host:port, not {bind!r}")
    return host.strip("[]"), int(port)


class MetricsServer:
    """A small HTTP listener of its own that answers ``GET /metrics`` (and 404 to
    anything else) from a thread, beside the API's server."""

    def __init__(self, bind: str, render: Callable[[], bytes]) -> None:
        host, port = parse_bind(bind)

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path.split("?", 1)[0] != "/metrics":
                    self.send_error(404)
                    return
                body = render()
                self.send_response(200)
                self.send_header("Content-Type", CONTENT_TYPE_LATEST)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass  # a scrape every few seconds is not news

        class Server(ThreadingHTTPServer):
            address_family = socket.AF_INET6 if ":" in host else socket.AF_INET
            daemon_threads = True

        self._server = Server((host, port), Handler)
        self._thread: threading.Thread | None = None

    @property
    def address(self) -> tuple[str, int]:
        """Where it listens (the port the OS chose when the bind asked for port 0)."""
        host, port = self._server.server_address[:2]
        return str(host), int(port)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        name="edigate-metrics", daemon=True)
        self._thread.start()
        host, port = self.address
        log.info("metrics at http://%s:%d/metrics", host, port)

    def stop(self) -> None:
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout=5)
        self._server.server_close()
