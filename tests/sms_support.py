"""Shared by the SMS suites: the model shipped in the package (no training step) and a home that uses it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from pesaguard.config import Settings

ROOT = Path(__file__).resolve().parents[1]
SMS_DATA = ROOT.parent / "shared" / "data" / "sms"  # development data; tests that read it skip without it


@pytest.fixture(scope="session")
def sms_model_dir() -> Path:
    """The folder of the shipped model (``pesaguard/sms/shipped``)."""
    from pesaguard.sms.train import MODEL_FILE, shipped_dir

    path = shipped_dir()
    assert (path / MODEL_FILE).is_file(), f"no shipped SMS model in {path}: run `pesaguard sms train` and copy it"
    return path


def install_model(model_dir: Path, settings: Settings) -> None:
    """Copy a model into ``settings``' home (a check then uses it instead of the shipped one)."""
    shutil.copytree(model_dir, settings.models_dir / "sms", dirs_exist_ok=True)
