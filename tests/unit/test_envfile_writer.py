"""The .env writer: values python-dotenv reads back exactly, and edits that keep the rest."""

from __future__ import annotations

import io
import os
import stat

import pytest
from dotenv import dotenv_values
from hypothesis import given, settings
from hypothesis import strategies as st

from hermes_tui.envfile import (
    ENV_MODE,
    EnvFileError,
    format_value,
    parse_env,
    read_env,
    render_update,
    update_env,
)

# No NUL (refused on purpose) and no lone surrogates (not text that can reach a file).
no_nul = st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",))
TRICKY = " #'\"=\\\n\r\t$a1é€😀{}:-"
values = st.one_of(
    st.text(alphabet=no_nul, max_size=60),
    st.text(alphabet=TRICKY, max_size=40),
    st.sampled_from(["", " ", "#", "a #b", "'", '"', "\\", "\\n", 'a\\"', "x\\", "=", "a=b",
                     " lead", "trail ", "multi\nline\n", "ünïcödé ✓"]),
)


def read_back(line: str, *, interpolate: bool) -> dict[str, str | None]:
    return dotenv_values(stream=io.StringIO(line), interpolate=interpolate)


@settings(max_examples=1000, deadline=None)
@given(values)
def test_format_value_round_trips_through_hermes_dotenv_loading(value):
    # Hermes calls load_dotenv with interpolation on: "${" must survive it too.
    line = f"KEY={format_value(value)}\n"
    assert read_back(line, interpolate=True) == {"KEY": value}
    assert parse_env(line) == {"KEY": value}


def test_a_literal_dollar_brace_is_not_expanded(monkeypatch):
    monkeypatch.setenv("HOME", "/home/someone")
    token = "abc${HOME}def$HOME${X:-y}"
    line = f"TELEGRAM_BOT_TOKEN={format_value(token)}\n"
    assert read_back(line, interpolate=True) == {"TELEGRAM_BOT_TOKEN": token}
    assert parse_env(line) == {"TELEGRAM_BOT_TOKEN": token}


def test_references_the_user_wrote_resolve_as_hermes_resolves_them():
    text = "BASE=https://x\nURL=${BASE}/v1\nPATHY=${NOPE:-fallback}\nOUT=${FROM_ENV}\n"
    assert parse_env(text, {"FROM_ENV": "env"}) == {
        "BASE": "https://x", "URL": "https://x/v1", "PATHY": "fallback", "OUT": "env"}
    assert dict(dotenv_values(stream=io.StringIO(text), interpolate=True))["URL"] == "https://x/v1"


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.from_regex(r"[A-Z_][A-Z0-9_]{0,8}", fullmatch=True), values,
                       max_size=5))
def test_update_env_writes_every_value_so_dotenv_reads_it_back(tmp_path_factory, updates):
    path = tmp_path_factory.mktemp("env") / ".env"
    path.write_text("# keep\nOTHER=1\n")
    update_env(path, updates)
    read = dotenv_values(path, interpolate=True)
    for key, value in updates.items():
        assert read[key] == value
    if "OTHER" not in updates:
        assert read["OTHER"] == "1"


def test_plain_values_are_written_unquoted():
    assert format_value("123456:ABC-def_ghi") == "123456:ABC-def_ghi"
    assert format_value("https://chat.example.com/x") == "https://chat.example.com/x"
    assert format_value("") == '""'
    assert format_value("has space") == '"has space"'


# --- update_env keeps everything else -----------------------------------------------------

ORIGINAL = (
    "# Secrets for Hermes\n"
    "\n"
    "export PATH_EXTRA=/opt/bin\n"
    "UNKNOWN_KEY='single quoted'   # trailing comment\n"
    "TELEGRAM_BOT_TOKEN=old-token\n"
    "this line is not valid dotenv\n"
    "   \n"
    'MULTI="line one\nline two"\n'
    "TELEGRAM_BOT_TOKEN=duplicate-later\n"
    "# end\n"
)


def test_update_env_replaces_a_key_in_place_and_keeps_every_other_line(tmp_path):
    path = tmp_path / ".env"
    path.write_text(ORIGINAL)

    update_env(path, {"TELEGRAM_BOT_TOKEN": "new:token"})

    assert path.read_text() == ORIGINAL.replace(
        "TELEGRAM_BOT_TOKEN=old-token\n", "TELEGRAM_BOT_TOKEN=new:token\n"
    ).replace("TELEGRAM_BOT_TOKEN=duplicate-later\n", "")
    assert read_env(path)["TELEGRAM_BOT_TOKEN"] == "new:token"
    assert read_env(path)["MULTI"] == "line one\nline two"


def test_update_env_appends_new_keys_at_the_end(tmp_path):
    path = tmp_path / ".env"
    path.write_text(ORIGINAL)
    update_env(path, {"NEW_ONE": "1", "NEW_TWO": "two words"})
    assert path.read_text() == ORIGINAL + 'NEW_ONE=1\nNEW_TWO="two words"\n'


def test_update_env_removes_keys_set_to_none_including_duplicates(tmp_path):
    path = tmp_path / ".env"
    path.write_text(ORIGINAL)
    update_env(path, {"TELEGRAM_BOT_TOKEN": None, "NOT_THERE": None})
    text = path.read_text()
    assert "TELEGRAM_BOT_TOKEN" not in text
    assert "NOT_THERE" not in text
    assert text == ORIGINAL.replace("TELEGRAM_BOT_TOKEN=old-token\n", "").replace(
        "TELEGRAM_BOT_TOKEN=duplicate-later\n", "")


def test_update_env_replaces_an_exported_key_keeping_its_position(tmp_path):
    path = tmp_path / ".env"
    path.write_text("# header\nexport PATH_EXTRA=/opt/bin\nexport OTHER=1\nX=2\n")
    update_env(path, {"PATH_EXTRA": "/usr/local/bin"})
    assert path.read_text() == "# header\nPATH_EXTRA=/usr/local/bin\nexport OTHER=1\nX=2\n"
    assert read_env(path)["PATH_EXTRA"] == "/usr/local/bin"


@pytest.mark.parametrize(
    ("before", "updates", "after"),
    [
        ("# header\n\nA=1\n", {"A": "9"}, "# header\n\nA=9\n"),
        ("A=1\n\n\nB=2\n", {"B": "3"}, "A=1\n\n\nB=3\n"),
        ("A=1\n  \t\nB=2\n", {"B": "3"}, "A=1\n  \t\nB=3\n"),
        ("# header\n\nexport A=1\n", {"A": "9"}, "# header\n\nA=9\n"),
        ("# header\n\nA=1\n\n# tail\n", {"A": None}, "# header\n\n\n# tail\n"),
    ],
    ids=["replace", "two-blank-lines", "whitespace-line", "export", "remove"],
)
def test_update_env_keeps_blank_lines_before_an_updated_key(tmp_path, before, updates, after):
    # python-dotenv's parser puts the blank lines that precede a binding into that
    # binding's ``original.string``; rewriting or removing the key must keep them.
    path = tmp_path / ".env"
    path.write_text(before)
    update_env(path, updates)
    assert path.read_text() == after


def test_update_env_handles_a_file_without_a_trailing_newline(tmp_path):
    path = tmp_path / ".env"
    path.write_text("# c\nA=1")
    update_env(path, {"B": "2"})
    assert path.read_text() == "# c\nA=1\nB=2\n"

    path.write_text("# c\nA=1")
    update_env(path, {"A": "9"})
    assert path.read_text() == "# c\nA=9\n"

    path.write_text("A=1\n# last comment")
    update_env(path, {"C": "3"})
    assert path.read_text() == "A=1\n# last comment\nC=3\n"


def test_update_env_creates_a_missing_file_with_mode_0600(tmp_path):
    path = tmp_path / ".env"
    update_env(path, {"A": "1", "B": None})
    assert path.read_text() == "A=1\n"
    assert stat.S_IMODE(path.stat().st_mode) == ENV_MODE == 0o600


def test_update_env_writes_0600_over_a_0644_file_even_with_a_permissive_umask(tmp_path):
    path = tmp_path / ".env"
    path.write_text("A=1\n")
    os.chmod(path, 0o644)
    old = os.umask(0)
    try:
        update_env(path, {"A": "2"})
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_text() == "A=2\n"


def test_update_env_keeps_crlf_lines_of_other_keys_byte_for_byte(tmp_path):
    # Universal-newline reading would turn every "\r\n" (and a lone "\r" inside a quoted
    # value) into "\n", rewriting a .env edited on Windows wholesale.
    path = tmp_path / ".env"
    path.write_bytes(b"# windows file\r\nA=1\r\nB=two\r\n")
    update_env(path, {"C": "3"})
    assert path.read_bytes().startswith(b"# windows file\r\nA=1\r\nB=two\r\n")
    assert read_env(path) == {"A": "1", "B": "two", "C": "3"}


@pytest.mark.parametrize("key", ["", "1ABC", "A-B", "A B", "A=B", "A\n", "ÄPFEL", "A.B"])
def test_invalid_key_names_raise_env_file_error_and_write_nothing(tmp_path, key):
    path = tmp_path / ".env"
    path.write_text("A=1\n")
    with pytest.raises(EnvFileError):
        update_env(path, {key: "x"})
    assert path.read_text() == "A=1\n"


def test_nul_in_a_value_raises_env_file_error(tmp_path):
    with pytest.raises(EnvFileError):
        render_update("", {"A": "x\x00y"})


def test_update_env_in_a_read_only_folder_raises_and_keeps_the_old_file(tmpfs):
    mount = tmpfs.mount("1m")
    path = mount / ".env"
    path.write_text("# mine\nA=1\n")
    os.chmod(path, 0o600)
    tmpfs.remount_read_only(mount)

    with pytest.raises(OSError):
        update_env(path, {"A": "2"})

    assert path.read_text() == "# mine\nA=1\n"
    assert [p.name for p in mount.iterdir()] == [".env"]


def test_parse_env_later_duplicates_win_and_malformed_lines_are_ignored():
    assert parse_env("A=1\nnot valid\nA=2\nB=\n") == {"A": "2", "B": ""}
