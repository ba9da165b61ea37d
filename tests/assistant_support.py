"""Fixtures shared by the assistant suites: one knowledge index per test process (built from the
shipped seed vectors, so in about a second). Import the ``*_fixture`` names; tests ask for the
fixture names (``kb_settings``, ``kb_index``, ``kb_assistant``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pesaguard.assistant.answering import Assistant
from pesaguard.assistant.index import KnowledgeIndex, open_index
from pesaguard.config import Settings


@pytest.fixture(scope="session", name="kb_settings")
def kb_settings_fixture(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    home: Path = tmp_path_factory.mktemp("assistant") / "home"
    return Settings(home=home)


@pytest.fixture(scope="session", name="kb_index")
def kb_index_fixture(kb_settings: Settings) -> KnowledgeIndex:
    return open_index(kb_settings)


@pytest.fixture(scope="session", name="kb_assistant")
def kb_assistant_fixture(kb_settings: Settings, kb_index: KnowledgeIndex) -> Assistant:
    return Assistant(kb_settings, index=kb_index)
