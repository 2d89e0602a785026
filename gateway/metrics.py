"""Prometheus metrics of this process (each gateway process exports its own).

Counters are incremented where things happen (the pipeline); ``/metrics`` renders them.
A registry per ``GatewayState`` keeps tests and several apps in one process apart.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

__all__ = ["Metrics"]


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

    def render(self) -> bytes:
        return generate_latest(self.registry)
