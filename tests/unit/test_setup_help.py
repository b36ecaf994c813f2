"""``hermes-tui setup --help``: the exit-code table reads as one aligned column."""

from __future__ import annotations

import re
import subprocess
import sys


def test_exit_code_table_is_one_aligned_column(tmp_path):
    done = subprocess.run([sys.executable, "-m", "hermes_tui.cli", "setup", "--help"],
                          capture_output=True, text=True, check=True,
                          env={"HOME": str(tmp_path), "PATH": "/usr/bin:/bin", "COLUMNS": "100"})
    block = done.stdout.split("exit codes:\n", 1)[1].split("\n\n", 1)[0].splitlines()
    codes = [re.match(r"^  (\d+) +", line) for line in block]
    listed = [int(m.group(1)) for m in codes if m]
    assert listed == [0, 2, 3, 5, 11, 12, 13, 14, 15, 16, 17, 130]
    columns = {m.end() for m in codes if m}
    assert columns == {7}  # every description starts in the same column
    for line, m in zip(block, codes, strict=True):
        if m is None:  # a continued description stays under its text
            assert line.startswith(" " * 7) and not line[7].isspace()
        assert len(line) <= 80
