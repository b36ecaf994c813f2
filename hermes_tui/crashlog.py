"""The wizard's log of failures: tracebacks without local variables (they can hold tokens).

``<data>/logs/hermes-tui.log`` (``Paths.log_file``), mode 0600, appended to.
"""

from __future__ import annotations

import os
import time
import traceback
from pathlib import Path


def log_failure(path: Path, error: BaseException, what: str = "Failure") -> Path | None:
    """Append ``error``'s traceback (no locals) to ``path``; None when it cannot be written."""
    text = "".join(traceback.format_exception(error))
    stamp = time.strftime("%Y-%m-%d %H:%M:%S")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        with os.fdopen(fd, "a", encoding="utf-8") as log:
            log.write(f"--- {stamp} {what}\n{text}\n")
    except OSError:
        return None
    return path
