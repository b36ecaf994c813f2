"""--image: a reference no engine would accept is refused saying what is wrong with it.

It used to reach the engine, whose "invalid reference format" was answered with the
internet/proxy advice. Now the reference is checked against the grammar dockerd and
Podman use (github.com/distribution/reference) on the command line, in the pull step
(so the wizard's screen says it too), and an engine's own refusal is read the same way.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from aiodocker.exceptions import DockerError

from hermes_tui.engine.detect import Diagnosis
from hermes_tui.engine.pull import (
    PROXY_HINT,
    ImageRefError,
    PullErrorKind,
    PullProgress,
    check_image_ref,
    classify,
)
from hermes_tui.settings import DEFAULT_IMAGE
from hermes_tui.state import StateStore, StepId, StepStatus
from hermes_tui.steps.flow import Flow
from hermes_tui.steps.pull import pull_step
from tests.support.states import at
from tests.unit.conftest import REPO, child_env

HEX = "0123456789abcdef" * 4


@pytest.mark.parametrize("ref", [
    DEFAULT_IMAGE,
    "ubuntu", "ubuntu:22.04", "library/ubuntu", "ghcr.io/me/hermes-agent:v1",
    "localhost:5000/x/y:t", "127.0.0.1:5000/a", "Registry.Example.com/a/b",
    "a__b/c-d--e.f:TAG_1.x-2", f"x@sha256:{HEX}", f"x:1@sha256:{HEX}",
    f"x@sha512:{HEX * 2}", "[::1]:5000/x",
])
def test_references_the_engines_accept_pass_unchanged(ref):
    assert check_image_ref(ref) == ref


@pytest.mark.parametrize(("ref", "said"), [
    ("Bad Ref!!", ("it contains spaces; without them, 'BadRef!!' holds upper-case letters "
                  "and '!'; a name may hold only a-z, 0-9 and . _ -")),
    ("nousresearch/Hermes-Agent:v1", ("'Hermes-Agent' has upper-case letters; image names "
                                     "are lower case ('hermes-agent')")),
    ("x:", "the tag '' is not valid (it is empty"),
    ("x:-rc1", "the tag '-rc1' is not valid (it may not start with '.' or '-'"),
    ("x:v1!", "the tag 'v1!' is not valid (it holds '!'"),
    ("x:" + "a" * 129, "(it is longer than 128 characters"),
    ("x@sha256:xyz", ("a sha256 digest is 64 lower-case hex digits (0-9, a-f); this one has "
                     "3 characters, among them 'x' 'y' 'z'")),
    (f"x@sha256:{HEX.upper()}", "this one has 64 characters, among them 'A' 'B' 'C' 'D' 'E' 'F'"),
    (f"x@sha256:{HEX[:-1]}", "this one has 63 characters"),
    (f"x@md5:{HEX[:32]}", "the digest algorithm 'md5' is not sha256, sha384 or sha512"),
    ("x@latest", "the digest 'latest' is not algorithm:hex"),
    ("a//b", "it has an empty part between slashes"),
    (":v1", "it has no image name"),
    ("registry:port/x", "the registry 'registry:port' has a port that is not a number"),
    ("my_registry.io/x", "the registry host 'my_registry.io' may hold only letters"),
    ("a..b", "'a..b' must start and end with a letter or digit"),
    ("", "it is empty"),
    ("x/" * 130 + "x", "at most 255 are allowed"),
])
def test_a_malformed_reference_says_what_is_wrong_and_how_to_write_one(ref, said):
    with pytest.raises(ImageRefError) as caught:
        check_image_ref(ref)
    error = caught.value
    assert error.kind is PullErrorKind.INVALID_REF
    assert said in error.message and "is not a valid image reference" in error.message
    assert "[registry[:port]/]name[:tag][@sha256:digest]" in error.problem.fix
    assert "proxy" not in error.problem.fix and error.problem.subject == ref


def test_the_engines_own_refusal_is_explained_not_blamed_on_the_network():
    refusal = DockerError(400, {"message": "invalid reference format: repository name "
                                           "(library/Bad) must be lowercase"})
    error = classify(refusal, "Bad")
    assert error.kind is PullErrorKind.INVALID_REF
    assert "'Bad' has upper-case letters" in error.message and error.fix != PROXY_HINT
    # A reference the grammar allows but this engine does not: its words, still no proxy.
    odd = classify(DockerError(400, {"message": "invalid reference format"}), "[::1]:5000/x")
    assert odd.kind is PullErrorKind.INVALID_REF and "the engine refused it" in odd.message


async def test_the_pull_step_refuses_it_before_asking_any_engine(tmp_path):
    store = StateStore(tmp_path / "wizard.toml")
    state = at(StepId.PULL)
    store.save(state)
    flow = Flow(state, store)
    no_engine = Diagnosis(engine=None, probes=())
    with pytest.raises(ImageRefError) as caught:
        await pull_step(flow, no_engine, "Hermes:latest", PullProgress())
    assert "'Hermes' has upper-case letters" in caught.value.message
    saved = StateStore(tmp_path / "wizard.toml").load().state
    assert saved.status(StepId.PULL) is StepStatus.FAILED
    assert saved.steps[StepId.PULL].reason == "invalid image reference"


@pytest.mark.parametrize("args", [
    ["--image", "Bad Ref!!", "status"],
    ["setup", "--non-interactive", "--profile", "bot", "--image", f"x@sha256:{HEX[:10]}"],
    ["doctor", "--image", "x:v1!"],
])
def test_the_command_line_refuses_it_with_exit_2_and_no_traceback(tmp_path: Path, args):
    done = subprocess.run([sys.executable, "-m", "hermes_tui.cli", *args,
                           "--data-dir", str(tmp_path)],
                          env=child_env(), capture_output=True, text=True, timeout=60,
                          stdin=subprocess.DEVNULL, cwd=REPO, check=False)
    assert done.returncode == 2, done.stderr
    assert "error: argument --image: '" in done.stderr
    assert "is not a valid image reference" in done.stderr
    assert "Traceback" not in done.stderr and list(tmp_path.iterdir()) == []
