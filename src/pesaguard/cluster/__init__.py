"""Many decision replicas, one feature state: a replicated state machine over the JetStream input
stream. Every replica applies every message in stream order (:mod:`pesaguard.cluster.machine`), the
replica JetStream hands a message to answers for it, and a claim per ``txn_id`` on a JetStream
key-value bucket (:mod:`pesaguard.cluster.claims`) makes that answer the only one
(:mod:`pesaguard.cluster.consumer`). Why this and not a shared Redis/Valkey state: docs/architecture.md.
"""
