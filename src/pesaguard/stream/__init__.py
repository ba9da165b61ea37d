"""Decisions from a message stream: ``pesaguard consume`` reads transactions and labels from NATS
JetStream, decides each transaction through the same :class:`pesaguard.decisions.decider.DecisionService`
as the API, and publishes the decision (:mod:`pesaguard.stream.consumer`; the process around it,
with its health and metrics endpoints, in :mod:`pesaguard.stream.runner`)."""

from pesaguard.stream.consumer import StreamConsumer, Topology, Tuning

__all__ = ["StreamConsumer", "Topology", "Tuning"]
