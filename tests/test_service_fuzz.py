"""Fuzz the OpenAPI schema with schemathesis against a real server: no input, valid or malformed,
may produce a 5xx, and every client error uses the one JSON envelope.

Examples per operation are capped so the whole run stays within about a minute on two cores."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

from pesaguard.config import Settings
from pesaguard.service.app import create_app
from pesaguard.service.auth import create_key
from service_support import ServerThread, TinyScorer

MAX_EXAMPLES = 25


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    home: Path = tmp_path_factory.mktemp("fuzz") / "home"
    app = create_app(Settings(home=home), scorer=TinyScorer())
    with ServerThread(app) as srv:
        yield srv.url, create_key(app.state.store, "admin")


def _operations(url: str) -> list[schemathesis.APIOperation]:
    schema = schemathesis.openapi.from_url(f"{url}/openapi.json")
    return [result.ok() for result in schema.get_all_operations()]


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_no_input_makes_a_server_error(server: tuple[str, str], mode: GenerationMode) -> None:
    url, key = server
    headers = {"Authorization": f"Bearer {key}"}
    operations = _operations(url)
    assert len(operations) >= 10
    unsatisfiable: list[str] = []
    for operation in operations:

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck),
                  database=None)
        def check(case: schemathesis.Case) -> None:
            response = case.call(base_url=url, headers=headers, timeout=10)
            assert response.status_code < 500, f"{case.method} {case.formatted_path}: {response.text[:500]}"
            if 400 <= response.status_code < 500 and response.status_code != 405:
                body = response.json()
                assert set(body) == {"error"} and {"code", "message", "hint", "field"} <= set(body["error"])

        try:
            check()
        except Unsatisfiable:
            # an operation without inputs (GET /healthz) has nothing to make malformed
            assert mode is GenerationMode.NEGATIVE
            unsatisfiable.append(operation.label)
    assert len(unsatisfiable) < len(operations) / 2, unsatisfiable
    # the fuzzer really reached the decision path: accepted (positive) or rejected with 422 (negative)
    metrics = httpx.get(f"{url}/metrics").text
    status = "200" if mode is GenerationMode.POSITIVE else "422"
    assert f'method="POST",route="/v1/transactions",status="{status}"' in metrics
