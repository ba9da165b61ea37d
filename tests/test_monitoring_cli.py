"""`pesaguard monitor report|check` on a synthetic prediction log: files written, snapshot stored,
exit codes (0 ok, 2 alarm), and `retrain`'s help contract."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from pesaguard.cli.main import app
from pesaguard.config import get_settings
from pesaguard.store import monitoring as repo
from pesaguard.store import open_store
from test_monitoring import T0, fill_log, reference

DAY = 86_400_000
runner = CliRunner()


def _setup(env_home: Path, tmp_path: Path) -> tuple[Path, Path]:
    with open_store(get_settings()) as store:
        fill_log(store, 12, shift_from=8)
    ref = reference().save(tmp_path / "ref")
    cfg = tmp_path / "monitoring.yaml"
    cfg.write_text("monitor:\n  window_days: 3\n  min_samples: 300\n  maturity_days: 3\n  k: 5\n"
                   "  alarm_features: 2\n  min_segment_support: 5\n")
    return ref, cfg


def test_check_exit_codes_follow_the_level(env_home: Path, tmp_path: Path) -> None:
    ref, cfg = _setup(env_home, tmp_path)
    stable = runner.invoke(app, ["monitor", "check", "--reference", str(ref), "--config", str(cfg),
                                 "--until", "2024-01-08"])
    assert stable.exit_code == 0, stable.output
    assert "level: ok" in stable.output
    shifted = runner.invoke(app, ["monitor", "check", "--reference", str(ref), "--config", str(cfg),
                                  "--json", str(tmp_path / "check.json")])
    assert shifted.exit_code == 2, shifted.output
    assert "alarm: drift amount_z" in shifted.output
    data = json.loads((tmp_path / "check.json").read_text())
    assert data["level"] == "alarm" and data["window"]["decisions"] == 3 * 400
    with open_store(get_settings()) as store:
        assert repo.count_snapshots(store) == 2 and repo.latest_snapshot(store)["level"] == "alarm"


def test_report_writes_the_html_and_figures(env_home: Path, tmp_path: Path) -> None:
    ref, cfg = _setup(env_home, tmp_path)
    out = tmp_path / "report"
    r = runner.invoke(app, ["monitor", "report", "--reference", str(ref), "--config", str(cfg), "--since",
                            "2024-01-01", "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert (out / "report.html").exists() and (out / "drift_psi.png").exists()
    assert json.loads((out / "report.json").read_text())["period"]["since_ms"] == T0


def test_bad_options_are_reported_with_their_fix(env_home: Path, tmp_path: Path) -> None:
    ref, _ = _setup(env_home, tmp_path)
    r = runner.invoke(app, ["monitor", "check", "--reference", str(ref), "--since", "2024-01-05",
                            "--until", "2024-01-02"])
    assert r.exit_code == 64 and "--until must be after --since" in r.output
    r = runner.invoke(app, ["monitor", "check", "--reference", str(ref), "--fail-on", "never"])
    assert r.exit_code == 64 and "fix:" in r.output
    r = runner.invoke(app, ["monitor", "check", "--reference", str(tmp_path / "nope.json")])
    assert r.exit_code == 66 and "pesaguard monitor reference" in r.output


def test_every_monitoring_command_has_help() -> None:
    for args in (["monitor", "--help"], ["monitor", "report", "--help"], ["monitor", "check", "--help"],
                 ["monitor", "promote", "--help"], ["monitor", "shadow", "--help"], ["retrain", "--help"]):
        r = runner.invoke(app, args)
        assert r.exit_code == 0 and "Usage" in r.output, args
    assert "--no-promote" in runner.invoke(app, ["retrain", "--help"]).output
