"""The engine harness itself, checked against the real processes it starts.

These tests talk plain HTTP (stdlib) to dockerd's unix socket and to the
registry, so they depend on nothing in the application.
"""

from __future__ import annotations

import json
import os
from typing import Any
from urllib.parse import urlencode

import pytest

from tests.support.engine import LocalEngine, tcp_request, unix_request


def _pull(engine: LocalEngine, ref: str) -> list[dict[str, Any]]:
    """Pull `ref` through the Engine API and return its progress events."""
    repository, _, tag = ref.rpartition(":")
    query = urlencode({"fromImage": repository, "tag": tag})
    status, body = engine.engine_request("POST", f"/images/create?{query}", timeout=120)
    assert status == 200, body
    return [json.loads(line) for line in body.splitlines() if line.strip()]


def test_engine_answers_on_its_own_socket(local_engine: LocalEngine) -> None:
    assert local_engine.docker_host == f"unix://{local_engine.socket_path}"
    assert os.path.dirname(local_engine.socket_path) == str(local_engine.state_dir)
    assert unix_request(local_engine.socket_path, "GET", "/_ping") == (200, b"OK")
    status, body = local_engine.engine_request("GET", "/version")
    assert status == 200
    assert json.loads(body)["ApiVersion"]


def test_registry_on_loopback_holds_both_tags(local_engine: LocalEngine) -> None:
    assert local_engine.registry.startswith("127.0.0.1:")
    assert local_engine.image == f"{local_engine.registry}/hermes-test:1"
    assert local_engine.image2 == f"{local_engine.registry}/hermes-test:2"
    status, body = tcp_request(local_engine.registry, "GET", "/v2/hermes-test/tags/list")
    assert status == 200
    assert sorted(json.loads(body)["tags"]) == ["1", "2"]


def test_images_are_not_present_locally(cold_engine: LocalEngine) -> None:
    for ref in (cold_engine.image, cold_engine.image2):
        status, _ = cold_engine.engine_request("GET", f"/images/{ref}/json")
        assert status == 404, ref
    assert cold_engine.engine_request("GET", "/images/json?all=1") == (200, b"[]\n")


def test_cold_pull_shows_progress_and_second_tag_shares_layers(
    cold_engine: LocalEngine,
) -> None:
    events = _pull(cold_engine, cold_engine.image)
    assert any(
        event.get("status") == "Downloading" and event["progressDetail"].get("total", 0) > 0
        for event in events
    ), events
    pulled_layers = {event["id"] for event in events if event.get("status") == "Pull complete"}
    assert len(pulled_layers) >= 3  # the busybox base plus random-data layers
    assert "Downloaded newer image" in events[-1]["status"]
    assert cold_engine.engine_request("GET", f"/images/{cold_engine.image}/json")[0] == 200

    events2 = _pull(cold_engine, cold_engine.image2)
    shared = {event["id"] for event in events2 if event.get("status") == "Already exists"}
    new = {event["id"] for event in events2 if event.get("status") == "Pull complete"}
    assert shared and shared < pulled_layers
    assert len(new) == 1


def test_registry_stops_and_restarts_with_its_data(local_engine: LocalEngine) -> None:
    local_engine.stop_registry()
    with pytest.raises(ConnectionRefusedError):
        local_engine.registry_request("GET", "/v2/")
    local_engine.start_registry()
    status, body = local_engine.registry_request("GET", "/v2/hermes-test/tags/list")
    assert status == 200
    assert sorted(json.loads(body)["tags"]) == ["1", "2"]


def test_engine_can_be_killed_and_restarted(local_engine: LocalEngine) -> None:
    local_engine.kill_engine()
    with pytest.raises((ConnectionRefusedError, FileNotFoundError)):
        local_engine.engine_request("GET", "/_ping")
    local_engine.start_engine()
    assert local_engine.engine_request("GET", "/_ping") == (200, b"OK")
