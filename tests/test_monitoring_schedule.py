"""The schedule: the Airflow DAG's task order and CLI calls, and the cron file's, against the Typer app.

The DAG is parsed with ``ast`` (Airflow is not a dependency of pesaguard). When a Python with Airflow
is available (``PESAGUARD_AIRFLOW_PYTHON``, e.g. a separate venv), the DAG is also loaded by a real
``DagBag`` there and its task graph compared.
"""

from __future__ import annotations

import ast
import json
import os
import re
import shlex
import subprocess
from pathlib import Path
from typing import Any

import pytest
import typer

from pesaguard.cli.main import app

ROOT = Path(__file__).resolve().parents[1]
DAG = ROOT / "deploy" / "airflow" / "pesaguard_daily.py"
CRON = ROOT / "deploy" / "cron" / "pesaguard.cron"
ORDER = ["ingest_labels", "monitor_report", "monitor_check", "retrain", "promote"]


def _dag_tasks() -> tuple[dict[str, str], list[str], dict[str, str]]:
    """task_id -> rendered command (module constants substituted), the `>>` chain, trigger rules."""
    tree = ast.parse(DAG.read_text())
    consts = {t.id: ast.literal_eval(node.value) for node in tree.body if isinstance(node, ast.Assign)
              for t in node.targets if isinstance(t, ast.Name) and isinstance(node.value, ast.Constant)}
    commands, rules, chain = {}, {}, []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "BashOperator":
            kw = {k.arg: k.value for k in node.keywords}
            task_id = ast.literal_eval(kw["task_id"])
            expr = ast.Expression(kw["bash_command"])
            commands[task_id] = eval(compile(expr, str(DAG), "eval"), {}, dict(consts))
            if "trigger_rule" in kw:
                rules[task_id] = ast.literal_eval(kw["trigger_rule"])
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.BinOp):
            def names(n: ast.AST) -> list[str]:
                if isinstance(n, ast.BinOp) and isinstance(n.op, ast.RShift):
                    return names(n.left) + names(n.right)
                return [n.id] if isinstance(n, ast.Name) else []
            chain = names(node.value)
    return commands, chain, rules


def _resolve(words: list[str]) -> Any:
    """The click command a `pesaguard ...` word list names (fails the test if it does not exist)."""
    cmd: Any = typer.main.get_command(app)  # typer vendors its own click: duck-type groups
    for w in words:
        if w.startswith("-") or not hasattr(cmd, "commands"):
            break
        assert w in cmd.commands, f"`pesaguard {' '.join(words)}`: no command {w!r}"
        cmd = cmd.commands[w]
    return cmd


def _check_call(line: str) -> None:
    for call in re.split(r"&&|;", line):
        words = shlex.split(re.sub(r"\{\{.*?\}\}|\$\{[^}]*\}|\$\([^)]*\)|\$\w+", "X", call.replace("\\%", "%")))
        if not words or words[0] != "pesaguard":
            continue
        words = [w for w in words[1:] if w != "--quiet"]
        cmd = _resolve(words)
        known = {o for p in cmd.params for o in (*p.opts, *p.secondary_opts)}
        for w in words:
            if w.startswith("--"):
                assert w in known, f"`{call.strip()}`: option {w} is not an option of the command"


def test_dag_runs_the_steps_in_order_and_every_cli_call_exists() -> None:
    commands, chain, rules = _dag_tasks()
    assert chain == ORDER and set(commands) == set(ORDER)
    assert rules == {"retrain": "all_done"}  # the gate, not the alarm, decides
    for task, command in commands.items():
        assert command.startswith("pesaguard --quiet "), task
        _check_call(command)
    assert "--no-promote" in commands["retrain"] and commands["promote"].endswith("monitor promote")


def test_cron_runs_the_same_cli_calls() -> None:
    lines = [ln for ln in CRON.read_text().splitlines() if ln.strip() and not ln.startswith("#") and "=" not in
             ln.split()[0]]
    assert len(lines) == 4
    for ln in lines:
        fields = ln.split(None, 5)
        assert all(re.fullmatch(r"[\d*/,-]+", f) for f in fields[:5]), ln
        _check_call(fields[5])
    text = " ".join(lines)
    for step in ("ingest-labels", "monitor report", "monitor check", "retrain", "monitor promote"):
        assert step in text


def test_the_checker_rejects_a_command_that_does_not_exist() -> None:
    with pytest.raises(AssertionError):
        _check_call("pesaguard --quiet monitor repor --out x")
    with pytest.raises(AssertionError):
        _check_call("pesaguard retrain --no-such-option")


@pytest.mark.skipif(not os.environ.get("PESAGUARD_AIRFLOW_PYTHON"),
                    reason="set PESAGUARD_AIRFLOW_PYTHON to a python with apache-airflow to load the DAG")
def test_airflow_loads_the_dag(tmp_path: Path) -> None:
    code = f"""
import json
from airflow.models import DagBag
bag = DagBag(dag_folder={str(DAG.parent)!r}, include_examples=False, read_dags_from_db=False)
dag = bag.dags["pesaguard_daily"]
print(json.dumps({{"errors": {{k: str(v) for k, v in bag.import_errors.items()}},
                   "order": [t.task_id for t in dag.topological_sort()],
                   "down": {{t.task_id: sorted(t.downstream_task_ids) for t in dag.tasks}}}}))
"""
    env = {**os.environ, "AIRFLOW_HOME": str(tmp_path), "AIRFLOW__CORE__LOAD_EXAMPLES": "False"}
    out = subprocess.run([os.environ["PESAGUARD_AIRFLOW_PYTHON"], "-c", code], capture_output=True, text=True,
                         env=env, timeout=300, check=True)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["errors"] == {} and result["order"] == ORDER
    assert result["down"]["monitor_check"] == ["retrain"] and result["down"]["promote"] == []
