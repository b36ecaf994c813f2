"""Fixtures for tests that need a real Docker engine and registry.

`local_engine` (session scope) starts one private dockerd plus a loopback
registry holding ``hermes-test:1`` and ``:2`` (see `tests.support.engine`).
Where that is impossible (not root, packages missing) the tests are skipped,
except under ``CI=true``, where a skip would hide missing coverage: there they
fail.  `cold_engine` hands out the same engine with no local containers or
images, so the first pull in a test is always a cold one.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.support.engine import EngineError, LocalEngine, can_run


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() == "true"


@pytest.fixture(scope="session")
def local_engine() -> Iterator[LocalEngine]:
    """A running engine + registry for the whole session, stopped at its end."""
    ok, reason = can_run()
    if not ok:
        if _in_ci():
            pytest.fail(f"CI=true but the local engine cannot run: {reason}", pytrace=False)
        pytest.skip(f"no local engine: {reason}")
    engine = LocalEngine()
    failure = ""
    try:
        engine.start()  # stops (and cleans up) by itself when it fails
    except EngineError as error:
        failure = str(error)
    if failure:
        pytest.fail(f"the local engine did not start: {failure}", pytrace=False)
    try:
        yield engine
    finally:
        engine.stop()


@pytest.fixture
def cold_engine(local_engine: LocalEngine) -> LocalEngine:
    """The session engine with every local container and image removed."""
    local_engine.start_registry()  # an earlier test may have stopped it
    local_engine.start_engine()  # … or killed the engine
    local_engine.remove_local_images()
    return local_engine
