"""The profile name rule: property-based against the spec's regex, plus specific messages."""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from hermes_tui.paths import Paths
from hermes_tui.profile import RESERVED_NAMES, ProfileError, profile_path, validate_name

# The spec's rule, written out independently of the module under test.
SPEC_RULE = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
SPEC_RESERVED = {"hermes", "test", "tmp", "root", "sudo"}
ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789_-"
AWKWARD = "ABZ .\n/\t\\é\x00"


def spec_accepts(name: str) -> bool:
    return SPEC_RULE.fullmatch(name) is not None and name not in SPEC_RESERVED


names = st.one_of(
    st.text(max_size=80),                                        # anything at all
    st.text(alphabet=ALPHABET, max_size=70),                     # mostly valid
    st.text(alphabet=ALPHABET, min_size=60, max_size=70),        # around the length limit
    st.text(alphabet=ALPHABET + AWKWARD, max_size=70),           # valid with a few bad chars
    st.text(alphabet=ALPHABET, min_size=1, max_size=64).map(lambda s: s + "\n"),
    st.sampled_from(sorted(SPEC_RESERVED)),
)


def test_reserved_names_match_the_spec():
    assert set(RESERVED_NAMES) == SPEC_RESERVED


def test_validate_name_accepts_exactly_what_the_spec_rule_accepts(tmp_path):
    paths = Paths(tmp_path / "data")
    outcomes: set[bool] = set()

    @settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(names)
    def check(name: str) -> None:
        verdict = validate_name(name)
        expected = spec_accepts(name)
        event(f"accepted={expected}")
        outcomes.add(expected)
        assert verdict.ok is expected, (name, verdict.message)
        assert verdict.message
        if expected:
            folder = profile_path(paths, name)
            assert folder.parent == paths.profiles
            assert folder.name == name
            assert folder.resolve().parent == paths.profiles.resolve()
        else:
            # Every refusal names its reason; the generic fallback is never needed.
            assert not verdict.message.startswith("Must match"), (name, verdict.message)
            with pytest.raises(ProfileError):
                profile_path(paths, name)

    check()
    assert outcomes == {True, False}, "the strategy must exercise both outcomes"


@pytest.mark.parametrize(
    ("name", "word"),
    [
        ("", "Enter a name"),
        ("Work", "Uppercase"),
        ("myProfile", "Uppercase"),
        ("my profile", "Spaces"),
        ("tab\there", "Spaces"),
        ("-x", "start"),
        ("_x", "start"),
        ("a" * 65, "Too long"),
        ("a.b", "'.'"),
        ("a/b", "'/'"),
        ("..", "start"),
        ("hermes", "reserved"),
        ("test", "reserved"),
        ("tmp", "reserved"),
        ("root", "reserved"),
        ("sudo", "reserved"),
    ],
)
def test_each_invalid_name_gets_a_specific_message(name, word):
    verdict = validate_name(name)
    assert not verdict.ok
    assert word in verdict.message, verdict.message


def test_too_long_message_gives_the_length_and_the_limit():
    message = validate_name("a" * 65).message
    assert "65" in message and "64" in message


def test_longest_allowed_name_is_64_characters():
    assert validate_name("a" * 64).ok
    assert validate_name("0" + "-" * 63).ok
    assert not validate_name("a" * 65).ok


@pytest.mark.parametrize("name", ["work", "a", "0", "my-profile_2", "hermes2", "testing"])
def test_valid_names_are_accepted_with_a_confirming_message(name):
    verdict = validate_name(name)
    assert verdict.ok
    assert name in verdict.message


@pytest.mark.parametrize("name", ["../etc", "a/../../b", "/abs", ".", "..", "x\n"])
def test_profile_path_refuses_names_that_could_leave_the_profiles_folder(tmp_path, name):
    with pytest.raises(ProfileError) as caught:
        profile_path(Paths(tmp_path), name)
    assert "Invalid profile name" in str(caught.value)
