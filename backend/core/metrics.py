"""Prometheus metrics of the backend, served at /metrics. One registry per app, so tests that build
several apps in one process do not collide."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "vaxledger_http_requests_total", "HTTP requests", ["method", "route", "status"], registry=self.registry
        )
        self.latency = Histogram(
            "vaxledger_http_request_seconds",
            "HTTP request latency",
            ["method", "route"],
            buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=self.registry,
        )
        self.chain_writes = Counter(
            "vaxledger_chain_writes_total", "Transactions sent for users", ["action", "outcome"], registry=self.registry
        )
        self.indexed_block = Gauge("vaxledger_indexer_block", "Last block indexed", registry=self.registry)
        self.chain_head = Gauge("vaxledger_chain_head", "Chain head seen by the indexer", registry=self.registry)
        self.indexed_events = Counter("vaxledger_indexer_events_total", "Events applied", registry=self.registry)
        self.logins = Counter("vaxledger_logins_total", "Login attempts", ["outcome"], registry=self.registry)
