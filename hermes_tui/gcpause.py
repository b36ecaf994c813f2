"""``paused_gc``: no cyclic garbage collection while a worker makes tens of thousands of
objects (a router's 50,000 models parsed from JSON, or read and written as YAML).

Every ~700 new containers Python runs a collection, and every so often a full one that
walks every object of the process (the app's widgets included): 100-200 ms at a time
with the GIL held, so the event loop - in another thread - reads no key meanwhile. Those
objects are not garbage yet and are freed by reference counting once done with, so the
collections find nothing to free. Collection resumes as soon as the block ends.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def paused_gc() -> Iterator[None]:
    """Pause cyclic garbage collection for the block (process-wide; a nested or
    concurrent use leaves it to the outermost, and a process that turned collection off
    keeps it off)."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
