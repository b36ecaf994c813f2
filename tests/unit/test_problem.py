"""One problem type: every domain error carries a ``Problem``; one plain-text renderer."""

from __future__ import annotations

from pathlib import Path

import pytest

from hermes_tui.bridge.router import RouterError, RouterErrorKind
from hermes_tui.commands.doctor import Check
from hermes_tui.commands.setup import StepFailed
from hermes_tui.engine.api_server import ApiServerError
from hermes_tui.engine.detect import Candidate, Outcome, Probe
from hermes_tui.engine.gateway import GatewayError
from hermes_tui.engine.pull import PullError, PullErrorKind
from hermes_tui.migration.apply import ApplyError
from hermes_tui.migration.plan import PlanError
from hermes_tui.problem import Problem, ProblemError, problem_lines, problem_of
from hermes_tui.profile import ProfileError
from hermes_tui.yamledit import ConfigError


def test_gateway_error_keeps_its_attributes_and_carries_exit_code_and_log_tail():
    error = GatewayError("It exited.", "Fix the .env.", ["a", "b"], exit_code=3)
    assert isinstance(error, ProblemError)
    assert (error.message, error.fix, error.log_tail, error.exit_code) == (
        "It exited.", "Fix the .env.", ["a", "b"], 3)
    assert str(error) == "It exited."
    assert error.problem == Problem("It exited.", "Fix the .env.",
                                    ("Exit code: 3", "Last log lines:", "a", "b"))


@pytest.mark.parametrize("error", [
    PullError(PullErrorKind.OTHER, "Pull failed.", "Retry."),
    RouterError(RouterErrorKind.HTTP, "The router said 500.", "Check it", status=500),
    ApiServerError("No port.", "Free one."),
    ProfileError("Invalid profile name."),
    ConfigError("Not YAML.", Path("/p/config.yaml"), 4),
    ApplyError("Nothing applied."),
    PlanError("No such item."),
    StepFailed("reason", "It failed.", "Do this.", ("one",)),
])
def test_every_domain_error_is_a_problem_error(error):
    assert isinstance(error, ProblemError)
    assert error.problem.what and str(error).startswith(error.problem.what)


def test_plan_error_is_still_a_value_error_and_config_error_names_its_file():
    assert isinstance(PlanError("x"), ValueError)
    assert ConfigError("Not YAML.", Path("/p/config.yaml"), 4).problem.subject == (
        "/p/config.yaml")
    assert RouterError(RouterErrorKind.HTTP, "m", "f", status=500).problem.details == (
        "HTTP status: 500",)


def test_probe_and_check_offer_a_problem():
    probe = Probe(Candidate(source="flag", url="unix:///x.sock"), Outcome.MISSING,
                  "No socket at /x.sock.", "Start Docker.")
    assert probe.problem == Problem("No socket at /x.sock.", "Start Docker.",
                                    subject="unix:///x.sock")
    check = Check("gateway", "fail", "hermes-bot exited", "Fix it.", ("log:", "x"))
    assert check.problem == Problem("hermes-bot exited", "Fix it.", ("log:", "x"), "gateway")


def test_problem_lines_render_headline_details_subject_and_fix():
    problem = Problem("It broke.", "Do this.", ("line 1", "line 2"), "/data/x")
    assert problem_lines(problem, lead="error: ") == [
        "error: It broke.", "  line 1", "  line 2", "Concerns: /data/x", "Fix: Do this."]
    # A subject the headline already names is not repeated.
    assert problem_lines(Problem("Cannot read /data/x.", subject="/data/x")) == [
        "Cannot read /data/x."]


def test_an_unexpected_error_names_its_type_the_retry_key_and_the_log():
    problem = problem_of(KeyError("boom"), "/data/logs/hermes-tui.log")
    assert problem.what == "Unexpected error: KeyError: 'boom'"
    assert problem.fix == "Press r to retry; the full log is at /data/logs/hermes-tui.log."
    own = GatewayError("Gone.", "Restart.")
    assert problem_of(own) == own.problem
