"""The stream consumer's Prometheus metrics, registered next to the decision service's own
(:class:`pesaguard.service.metrics.Metrics`), so one ``/metrics`` page shows both."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class StreamMetrics:
    """Counters of what happened to each message, the consumer's lag, and the stream path's latency."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.messages = Counter("pesaguard_stream_messages_total",
                                "Stream messages handled, by kind (transaction, label) and outcome "
                                "(decided, stored, dead_letter, retry, released: given back unhandled at a stop)",
                                ["kind", "outcome"], registry=registry)
        self.redeliveries = Counter("pesaguard_stream_redeliveries_total",
                                    "Messages received again after an earlier delivery was not acknowledged",
                                    registry=registry)
        self.dead_letters = Counter("pesaguard_stream_dead_letters_total",
                                    "Messages sent to the dead-letter subject, by reason code", ["reason"],
                                    registry=registry)
        self.lag = Gauge("pesaguard_stream_consumer_lag",
                         "Messages in the input stream not yet delivered to this consumer", registry=registry)
        self.ack_pending = Gauge("pesaguard_stream_ack_pending",
                                 "Messages delivered to this consumer and not acknowledged yet", registry=registry)
        self.in_flight = Gauge("pesaguard_stream_in_flight", "Messages this process is deciding right now",
                               registry=registry)
        self.connected = Gauge("pesaguard_stream_connected", "1 while connected to the NATS server",
                               registry=registry)
        buckets = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 5.0)
        self.handle_seconds = Histogram("pesaguard_stream_handle_seconds",
                                        "From a message's arrival in this process to its acknowledgement "
                                        "(decided, durable, decision published)", registry=registry, buckets=buckets)
        self.end_to_end_seconds = Histogram("pesaguard_stream_end_to_end_seconds",
                                            "From a message's storage in the input stream to its acknowledgement",
                                            registry=registry, buckets=buckets)
