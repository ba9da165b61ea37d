"""``pesaguard consume``: decide transactions from NATS JetStream and publish the decisions."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import typer

from pesaguard.cli.common import handle_errors, say
from pesaguard.config import get_settings
from pesaguard.errors import UsageError


@handle_errors
def consume(
    transactions: str = typer.Option("pesaguard.transactions", help="Subject transactions arrive on (JSON, the "
                                     "body of POST /v1/transactions)."),
    labels: str = typer.Option("pesaguard.labels", help="Subject labels arrive on (JSON: txn_id, is_fraud, "
                               "known_at_ms[, source, typology])."),
    decisions: str = typer.Option("pesaguard.decisions", help="Subject each decision is published to."),
    dead_letter: str = typer.Option("pesaguard.deadletter", help="Subject undecidable messages go to, "
                                    "unchanged, with the reason in their headers."),
    stream: str = typer.Option("PESAGUARD_IN", help="JetStream stream holding the two input subjects."),
    durable: str = typer.Option("pesaguard-decider", help="Durable consumer name (its position survives restarts)."),
    create_streams: bool = typer.Option(True, help="Create missing streams and the consumer; with "
                                        "--no-create-streams they must exist."),
    max_in_flight: int = typer.Option(512, min=1, max=65_536, help="Messages decided at once, at most."),
    max_deliveries: int = typer.Option(8, min=1, help="Deliveries of a transiently failing message before it "
                                       "goes to the dead-letter subject."),
    host: str = typer.Option("0.0.0.0", help="Interface for /healthz, /readyz and /metrics."),
    port: int = typer.Option(9100, min=1, max=65535, help="Port for /healthz, /readyz and /metrics."),
    rules: Path | None = typer.Option(None, "--rules", help="Policy YAML (default: HOME/rules.yaml if present)."),
    cluster: bool = typer.Option(False, "--cluster/--single", envvar="PESAGUARD_CLUSTER",
                                 help="Run as one of several replicas sharing the stream: each rebuilds the whole "
                                 "feature state from the input stream and decides the messages JetStream hands it "
                                 "(docs/scaling.md). Default: one process owns the state, warmed from the store."),
    snapshot_every: int = typer.Option(100_000, min=0, help="With --cluster: save the feature state every this "
                                       "many stream messages, so a starting replica replays only what follows "
                                       "(0: never; a start then replays the whole retained stream)."),
) -> None:
    """Decide transactions from NATS JetStream (PESAGUARD_NATS_URL) and publish each decision.

    At-least-once: a message is acknowledged once its decision is durable and published; a
    redelivered transaction gets its stored decision back and never counts twice. Without
    --cluster one consumer process decides (it owns the live feature state); with --cluster any
    number of replicas do. Stop it with SIGTERM or Ctrl-C.
    """
    from pesaguard.stream.consumer import Topology, Tuning, servers_shown
    from pesaguard.stream.runner import consume as run

    settings = get_settings()
    if rules is not None:
        if not rules.exists():
            raise UsageError(f"rules file {rules} does not exist", hint="give the path to a policy YAML")
        from pesaguard.decisions.rules import load_rules  # imports the feature engine: only when used

        load_rules(rules)
    logging.basicConfig(level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    topology = Topology(input_stream=stream, transactions=transactions, labels=labels, decisions=decisions,
                        dead_letter=dead_letter, durable=durable)
    tuning = Tuning(max_in_flight=max_in_flight, batch=min(256, max_in_flight), max_deliveries=max_deliveries)
    say(f"pesaguard consume: {transactions} and {labels} from {servers_shown(settings.nats_url)}; decisions to {decisions}; "
        f"health and metrics on http://{host}:{port}")
    import uvloop  # as `pesaguard serve` runs (uvicorn's loop="uvloop")

    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        handled = runner.run(run(settings, host=host, port=port, rules_path=rules, topology=topology,
                                 tuning=tuning, create_streams=create_streams, cluster=cluster,
                                 snapshot_every=snapshot_every))
    say(f"stopped after {handled:,} messages")
