"""pesaguard daily: ingest labels -> monitor (report, check) -> retrain -> gate -> promote.

Every task is one ``pesaguard`` CLI call (BashOperator), so the same steps run from cron
(``deploy/cron/pesaguard.cron``) and by hand. Configure with Airflow Variables or the environment:

- ``PESAGUARD_HOME`` / ``PESAGUARD_DATABASE_URL`` / ``PESAGUARD_MLFLOW_TRACKING_URI`` as for the service;
- ``PESAGUARD_LABELS_DIR``: where the day's label file lands (``labels-YYYY-MM-DD.csv``);
- ``PESAGUARD_REPORTS_DIR``: where reports are written (one directory per day);
- ``PESAGUARD_MONITORING_CONFIG``: the YAML file of monitoring thresholds and gate margins.

``monitor_check`` exits 2 on an alarm, which marks it failed (and alerts through Airflow's usual
channels); retraining runs whatever the check said (``trigger_rule="all_done"``), because the gate,
not the alarm, decides whether a new model ships. ``retrain`` registers and gates the challenger
without promoting it; ``promote`` promotes it only if the gate passed.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow import DAG
from airflow.operators.bash import BashOperator

CLI = "pesaguard --quiet"
CONFIG = "--config ${PESAGUARD_MONITORING_CONFIG:-/etc/pesaguard/monitoring.yaml}"
REPORTS = "${PESAGUARD_REPORTS_DIR:-/var/lib/pesaguard/reports}"
LABELS = "${PESAGUARD_LABELS_DIR:-/var/lib/pesaguard/labels}"

default_args = {
    "owner": "fraud-ops",
    "retries": 1,
    "retry_delay": timedelta(minutes=10),
}

with DAG(
    dag_id="pesaguard_daily",
    description="Ingest labels, monitor drift and matured performance, retrain behind a gate",
    schedule="30 2 * * *",
    start_date=datetime(2024, 1, 1),
    catchup=False,
    max_active_runs=1,
    default_args=default_args,
    tags=["pesaguard", "fraud", "monitoring"],
) as dag:
    ingest_labels = BashOperator(
        task_id="ingest_labels",
        bash_command=f"{CLI} ingest-labels {LABELS}/labels-{{{{ ds }}}}.csv",
    )
    monitor_report = BashOperator(
        task_id="monitor_report",
        bash_command=f"{CLI} monitor report {CONFIG} --until {{{{ data_interval_end | ds }}}} "
                     f"--out {REPORTS}/{{{{ ds }}}}",
    )
    monitor_check = BashOperator(
        task_id="monitor_check",
        bash_command=f"{CLI} monitor check {CONFIG} --until {{{{ data_interval_end | ds }}}}",
    )
    retrain = BashOperator(
        task_id="retrain",
        bash_command=f"{CLI} retrain {CONFIG} --no-promote --json {REPORTS}/{{{{ ds }}}}/retrain.json",
        trigger_rule="all_done",
    )
    promote = BashOperator(
        task_id="promote",
        bash_command=f"{CLI} monitor promote",
    )

    ingest_labels >> monitor_report >> monitor_check >> retrain >> promote
