"""The container image and the deployment descriptions: the Dockerfile lints (hadolint), every
Kustomize overlay renders (kubectl's built-in kustomize) and validates against the Kubernetes API
schemas (kubernetes-validate), no deciding workload runs more than one replica unless its feature
state is shared (``consume --cluster``), every command and setting they name exists, and the
image's entry points start as plain processes. Under CI a missing tool fails; elsewhere it skips."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
import typer
import yaml

from ci_support import missing
from pesaguard.cli.main import app
from pesaguard.config import Settings
from stream_support import NatsServer, consumer_state, free_port, nats_server

__all__ = ["nats_server"]  # the fixture, imported for pytest

ROOT = Path(__file__).resolve().parents[1]
K8S = ROOT / "deploy" / "k8s"
OVERLAYS = sorted(p.name for p in (K8S / "overlays").iterdir() if (p / "kustomization.yaml").exists())
KUBERNETES_VERSION = "1.30.0"  # the oldest release the manifests support (autoscaling/v2, policy/v1)
DECIDING = ("pesaguard-api", "pesaguard-consume")  # each holds a live feature state
SHARED_STATE = "--cluster"  # the consume option under which replicas share one feature state


def _workloads(docs: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {**_by_kind(docs, "Deployment"), **_by_kind(docs, "StatefulSet")}


def _tool(name: str) -> str:
    """The virtualenv's copy first (the dev extra installs hadolint, kubectl, kubernetes-validate)."""
    local = Path(sys.executable).parent / name
    found = str(local) if local.exists() else shutil.which(name)
    if found is None:
        missing(name, "pip install -e '.[dev]' installs it")
    return found


def _render(overlay: str) -> list[dict[str, Any]]:
    out = subprocess.run([_tool("kubectl"), "kustomize", str(K8S / "overlays" / overlay)], capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return [d for d in yaml.safe_load_all(out.stdout) if d]


def _by_kind(docs: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in docs if d["kind"] == kind}


def _check_command(args: list[str]) -> None:
    """``args`` parse as a pesaguard command line: the command and every option exist (nothing runs)."""
    group: Any = typer.main.get_command(app)
    cmd, rest = group, list(args)
    while hasattr(cmd, "commands") and rest and rest[0] in cmd.commands:
        cmd = cmd.commands[rest.pop(0)]
    assert cmd is not group, f"{args}: no such pesaguard command"
    cmd.make_context("pesaguard", rest)  # raises on an unknown option or a bad value


def _check_settings(names: list[str]) -> None:
    fields = {f"PESAGUARD_{n.upper()}" for n in Settings.model_fields}
    fields |= {"PESAGUARD_REDACTION_SALT"}  # the salt's environment name (an alias of its field)
    unknown = [n for n in names if n.startswith("PESAGUARD_") and n not in fields]
    assert not unknown, f"not pesaguard settings: {unknown}"


# -- the Dockerfile ----------------------------------------------------------------------------------

def _stages() -> list[list[str]]:
    """The Dockerfile's instructions (continuations joined), split into stages."""
    text = (ROOT / "Dockerfile").read_text()
    lines = [ln for ln in re.sub(r"\\\n", " ", text).splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    stages: list[list[str]] = []
    for ln in lines:
        if ln.startswith("FROM "):
            stages.append([])
        if stages:
            stages[-1].append(ln)
    return stages


def test_the_dockerfile_passes_hadolint(tmp_path: Path) -> None:
    hadolint = _tool("hadolint")
    run = subprocess.run([hadolint, "--failure-threshold", "info", str(ROOT / "Dockerfile")], capture_output=True,
                         text=True, timeout=60)
    assert run.returncode == 0, run.stdout + run.stderr
    bad = tmp_path / "Dockerfile"  # the linter is live: an unpinned base and a root apt install fail
    bad.write_text("FROM python\nRUN apt-get install gcc\n")
    assert subprocess.run([hadolint, str(bad)], capture_output=True, timeout=60).returncode != 0


def test_the_image_is_multi_stage_non_root_without_build_tools_and_checks_health() -> None:
    stages = _stages()
    assert len(stages) >= 2
    final = stages[-1]
    assert not any(re.search(r"build-essential|\bgcc\b|\bg\+\+|\bmake\b|-dev\b", ln) for ln in final)
    assert any(re.search(r"build-essential", ln) for ln in stages[0])
    assert any(ln.startswith("COPY --from=build ") for ln in final)
    user = [ln.split()[1] for ln in final if ln.startswith("USER ")]
    assert user and user[-1].split(":")[0] not in ("0", "root")
    health = [ln for ln in final if ln.startswith("HEALTHCHECK ")]
    assert len(health) == 1 and "HEALTHCHECK_URL" in health[0]
    env = " ".join(ln for ln in final if ln.startswith("ENV "))
    assert "HEALTHCHECK_URL=http://127.0.0.1:8000/healthz" in env
    _check_settings(re.findall(r"\b(PESAGUARD_[A-Z_]+)=", env))
    entry = [ln for ln in final if ln.startswith("ENTRYPOINT ")]
    cmd = [ln for ln in final if ln.startswith("CMD ")]
    assert yaml.safe_load(entry[-1][len("ENTRYPOINT "):]) == ["pesaguard"]
    _check_command(yaml.safe_load(cmd[-1][len("CMD "):]))


def test_the_build_context_holds_what_the_dockerfile_copies() -> None:
    ignore = (ROOT / ".dockerignore").read_text().splitlines()
    allowed = [ln[1:].rstrip("/") for ln in ignore if ln.startswith("!")]
    for stage in _stages():
        for ln in stage:
            if ln.startswith("COPY ") and "--from=" not in ln:
                for src in ln.split()[1:-1]:
                    assert (ROOT / src).exists(), src
                    assert any(src.rstrip("/") == a or src.startswith(a + "/") for a in allowed), src


# -- Kubernetes ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("overlay", OVERLAYS)
def test_each_overlay_renders_and_validates_against_the_kubernetes_schemas(overlay: str) -> None:
    _tool("kubectl")
    import kubernetes_validate

    docs = _render(overlay)
    for doc in docs:
        kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)
    kinds = {d["kind"] for d in docs}
    assert {"Deployment", "StatefulSet", "Service", "HorizontalPodAutoscaler", "PodDisruptionBudget", "Job",
            "ConfigMap"} <= kinds


def test_the_validator_rejects_a_broken_manifest() -> None:
    _tool("kubectl")
    import kubernetes_validate

    deployment = _by_kind(_render(OVERLAYS[0]), "Deployment")["pesaguard-api"]
    deployment["spec"]["replicas"] = "one"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, KUBERNETES_VERSION, strict=True)
    deployment["spec"]["replicas"] = 1
    deployment["spec"]["template"]["spec"]["containers"][0]["livenessProbes"] = {}  # a typo: strict rejects it
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, KUBERNETES_VERSION, strict=True)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_replicas_above_one_only_with_the_shared_feature_state(overlay: str) -> None:
    docs = _render(overlay)
    workloads = _workloads(docs)
    hpas = {h["spec"]["scaleTargetRef"]["name"]: h for h in _by_kind(docs, "HorizontalPodAutoscaler").values()}
    pdbs = _by_kind(docs, "PodDisruptionBudget")
    assert set(DECIDING) <= set(workloads) and set(DECIDING) <= set(hpas) and set(DECIDING) <= set(pdbs)
    for name in DECIDING:
        w = workloads[name]
        shared = SHARED_STATE in w["spec"]["template"]["spec"]["containers"][0]["args"]
        most = max(w["spec"]["replicas"], hpas[name]["spec"]["maxReplicas"])
        assert hpas[name]["spec"]["scaleTargetRef"]["kind"] == w["kind"]
        assert hpas[name]["spec"]["metrics"][0]["resource"]["name"] == "cpu"
        assert pdbs[name]["spec"]["selector"]["matchLabels"] == w["spec"]["selector"]["matchLabels"]
        if shared:
            assert w["kind"] == "StatefulSet" and w["spec"]["replicas"] >= 3, name  # survives losing one
            assert hpas[name]["spec"]["minReplicas"] >= 3 and pdbs[name]["spec"]["maxUnavailable"] == 1
        else:
            # a feature state of its own: one replica, never two during a roll-out
            assert most == 1 and w["spec"]["strategy"]["type"] == "Recreate", name
    assert SHARED_STATE in workloads["pesaguard-consume"]["spec"]["template"]["spec"]["containers"][0]["args"]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_manifests_run_real_commands_with_secrets_probes_and_durable_journals(overlay: str) -> None:
    docs = _render(overlay)
    deployments = _workloads(docs)

    config = next(iter(_by_kind(docs, "ConfigMap").values()))
    _check_settings(list(config["data"]))
    # a decision is durable once in the journal: the journal must outlive the pod (a claim per deciding
    # process: a named claim, or one per replica from a StatefulSet's template)
    claims = _by_kind(docs, "PersistentVolumeClaim")
    for name in DECIDING:
        pod = deployments[name]["spec"]["template"]["spec"]
        home = config["data"]["PESAGUARD_HOME"]
        mounts = {m["mountPath"]: m["name"] for m in pod["containers"][0]["volumeMounts"]}
        templates = {t["metadata"]["name"] for t in deployments[name]["spec"].get("volumeClaimTemplates", [])}
        if mounts[f"{home}/journal"] in templates:
            continue
        volume = next(v for v in pod["volumes"] if v["name"] == mounts[f"{home}/journal"])
        assert volume["persistentVolumeClaim"]["claimName"] in claims, name
    job = _by_kind(docs, "Job")["pesaguard-migrate"]
    pods = [(d["metadata"]["name"], d["spec"]["template"]["spec"]) for d in deployments.values()]
    pods.append(("pesaguard-migrate", job["spec"]["template"]["spec"]))
    assert job["spec"]["template"]["spec"]["containers"][0]["args"] == ["db", "migrate"]
    for name, pod in pods:
        assert pod["securityContext"]["runAsNonRoot"] is True, name
        for c in pod["containers"]:
            _check_command(c["args"])
            assert c["resources"]["requests"]["cpu"] and c["resources"]["requests"]["memory"], name
            assert c["securityContext"]["allowPrivilegeEscalation"] is False
            env = {e["name"]: e for e in c.get("env", [])}
            _check_settings(list(env))
            # secrets come from a Kubernetes Secret, never from the manifest
            for secret in ("PESAGUARD_DATABASE_URL", "PESAGUARD_REDACTION_SALT"):
                assert "secretKeyRef" in env[secret]["valueFrom"], (name, secret)
            assert not any(k in config["data"] for k in ("PESAGUARD_DATABASE_URL", "PESAGUARD_REDACTION_SALT"))
    # ... and no overlay writes the Secret itself: a salt in a manifest is published with it
    assert not _by_kind(docs, "Secret"), f"{overlay}: create the secret by hand (see the overlay's header)"
    for name in DECIDING:
        c = deployments[name]["spec"]["template"]["spec"]["containers"][0]
        port = {p["name"]: p["containerPort"] for p in c["ports"]}
        listen = int(c["args"][c["args"].index("--port") + 1])
        assert c["readinessProbe"]["httpGet"]["path"] == "/readyz"
        assert c["livenessProbe"]["httpGet"]["path"] == "/healthz"
        assert port[c["readinessProbe"]["httpGet"]["port"]] == port[c["livenessProbe"]["httpGet"]["port"]] == listen


# -- compose -------------------------------------------------------------------------------------------

def test_compose_runs_real_commands_and_more_than_one_replica_only_with_the_shared_state() -> None:
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    services = compose["services"]
    assert {"postgres", "nats", "mlflow", "migrate", "api", "consume"} <= set(services)
    for name, svc in services.items():
        for dep in svc.get("depends_on", {}):
            assert dep in services, (name, dep)
        for vol in svc.get("volumes", []):
            assert vol.split(":")[0] in compose["volumes"], (name, vol)
        if svc.get("image", "").startswith("${PESAGUARD_IMAGE"):
            if svc.get("entrypoint") == ["mlflow"]:  # the registry, from the MLflow inside the image
                from mlflow.cli import cli

                cli.commands[svc["command"][0]].make_context("mlflow", list(svc["command"][1:]))
                continue
            _check_command(svc["command"])
            _check_settings(list(svc["environment"]))
    for name in ("api", "consume"):
        replicas = services[name]["deploy"]["replicas"]
        assert replicas == 1 or SHARED_STATE in services[name]["command"], name
        # replicas of the shared state each keep their own journal: no named volume for the home
        assert replicas == 1 or not services[name].get("volumes"), name
    assert services["consume"]["deploy"]["replicas"] >= 3
    assert services["migrate"]["command"] == ["db", "migrate"]
    assert services["api"]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert "9100/healthz" in services["consume"]["environment"]["HEALTHCHECK_URL"]


# -- the image's entry points, as plain processes ---------------------------------------------------

def _env(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PESAGUARD_")}
    return {**env, "PESAGUARD_HOME": str(home), **extra}


@pytest.mark.slow
def test_the_image_entry_points_start_as_processes(nats_server: NatsServer, tmp_path: Path) -> None:
    home = tmp_path / "home"
    pesaguard = [sys.executable, "-m", "pesaguard.cli.main"]
    migrate = subprocess.run([*pesaguard, "db", "migrate"], env=_env(home), capture_output=True, text=True,
                             timeout=120)
    assert migrate.returncode == 0 and "schema version" in migrate.stdout, migrate.stdout + migrate.stderr

    # the build step that compiles the feature kernel into the image's numba cache (here it finds the
    # kernel already cached next to the module: a cold compilation takes minutes on this machine)
    warm = subprocess.run([sys.executable, str(ROOT / "deploy" / "docker" / "warm_numba.py")], env=_env(home),
                          capture_output=True, text=True, timeout=300)
    assert warm.returncode == 0 and "numba cache warmed" in warm.stdout, warm.stderr

    # the default command (serve) answers its probes, and the HEALTHCHECK command passes against it
    port = free_port()
    serve = subprocess.Popen([*pesaguard, "serve", "--host", "127.0.0.1", "--port", str(port)], env=_env(home),
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert serve.poll() is None, serve.stderr.read() if serve.stderr else ""
            assert time.monotonic() < deadline, "serve did not answer /healthz"
            time.sleep(0.2)
        ready = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=5)
        assert ready.status_code == 503 and "model" in ready.json()["checks"]  # no model trained in this home
        health = _healthcheck_command()
        url = f"http://127.0.0.1:{port}/healthz"
        assert subprocess.run(health, env=_env(home, HEALTHCHECK_URL=url), timeout=30).returncode == 0
        wrong = f"http://127.0.0.1:{free_port()}/healthz"
        assert subprocess.run(health, env=_env(home, HEALTHCHECK_URL=wrong), capture_output=True,
                              timeout=30).returncode != 0
    finally:
        os.killpg(serve.pid, signal.SIGTERM)
        # a clean stop; uvicorn re-raises the signal it handled, so the status names SIGTERM
        assert serve.wait(60) in (0, -signal.SIGTERM)

    # the consumer's command: it reaches NATS, creates its streams, and stops at the missing model
    # with the model's exit code and the fix (deciding with a model: tests/test_stream*.py)
    consume = subprocess.run([*pesaguard, "consume", "--host", "127.0.0.1", "--port", str(free_port())],
                             env=_env(home, PESAGUARD_NATS_URL=nats_server.url), capture_output=True, text=True,
                             timeout=120)
    assert consume.returncode == 69, consume.stdout + consume.stderr
    assert "pesaguard train" in consume.stdout + consume.stderr
    assert asyncio.run(consumer_state(nats_server.url)) == (0, 0)  # its stream and durable consumer exist


def _healthcheck_command() -> list[str]:
    final = _stages()[-1]
    line = next(ln for ln in final if ln.startswith("HEALTHCHECK "))
    exec_form = yaml.safe_load(line[line.index("CMD ") + 4:])
    assert exec_form[0] == "python"
    return [sys.executable, *exec_form[1:]]
