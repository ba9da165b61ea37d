"""Shared by the SMS suites: the real model, trained once per test session (even under xdist)."""

from __future__ import annotations

import fcntl
import shutil
from pathlib import Path

import pytest

from pesaguard.config import Settings

ROOT = Path(__file__).resolve().parents[1]
SMS_DATA = ROOT.parent / "shared" / "data" / "sms"


def _trained_dir(base: Path) -> Path:
    """Train into ``base/sms-model`` unless another worker already did (a file lock serialises)."""
    from pesaguard.sms.train import MODEL_FILE, save_model, train_model

    out = base / "sms-model"
    with (base / "sms-model.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (out / MODEL_FILE).is_file():
            save_model(train_model(SMS_DATA), out)
    return out


@pytest.fixture(scope="session")
def sms_model_dir(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Path:
    if not SMS_DATA.is_dir():
        pytest.skip(f"shared SMS data not found at {SMS_DATA}")
    base = tmp_path_factory.getbasetemp()
    if worker_id != "master":
        base = base.parent  # shared by all xdist workers of this run
    return _trained_dir(base)


def install_model(model_dir: Path, settings: Settings) -> None:
    """Copy the trained model into ``settings``' home."""
    shutil.copytree(model_dir, settings.models_dir / "sms", dirs_exist_ok=True)
