"""Side-by-side diff on a big file: hermes-tui's DiffView against textual-diff-view.

What it measures
----------------
A 5,000-line file pair with 10% of lines changed (replaced, inserted and deleted in
scattered blocks), shown side by side in a headless 160x50 Textual app, each widget in its
own fresh Python process so memory figures do not mix:

* first paint: from the app starting to the first frame showing the diff (includes computing
  the diff: ours runs difflib in a worker thread; textual-diff-view's ``prepare()`` likewise);
* jump to end: from pressing End to the next frame;
* peak RSS of the whole process (ru_maxrss).

Goals for ours: first paint <= 0.5 s, jump <= 50 ms, peak RSS <= 60 MB. textual-diff-view
(one widget per line) took 9.6 s and 199 MB here. It is not a dependency of the project:
``pip install textual-diff-view`` into the venv to include it; otherwise it is reported as
missing. Figures are printed, never asserted. Run: .venv/bin/python bench/diff_view.py
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LINES = 5_000

CHILD = r'''
import asyncio, json, resource, sys, time
sys.path.insert(0, ROOT)
from textual.app import App

before = open(BEFORE).read()
after = open(AFTER).read()
result = {}

class Bench(App):
    async def on_mount(self):
        self.t0 = time.perf_counter()
        if KIND == "ours":
            from hermes_tui.ui.widgets.diff_view import DiffView, diff_rows
            view = DiffView()
            await self.mount(view)
            view.focus()
            diff = await asyncio.to_thread(diff_rows, before, after)
            view.show(diff)
        else:
            from textual_diff_view import DiffView
            view = DiffView("before.txt", "after.txt", before, after, split=True)
            await view.prepare()
            await self.mount(view)
        self.view = view
        self.call_after_refresh(self.painted)

    def painted(self):
        result["first_paint"] = time.perf_counter() - self.t0
        self.t1 = time.perf_counter()
        if KIND == "ours":
            self.view.scroll_end(animate=False)
        else:
            self.screen.scroll_end(animate=False)
        self.call_after_refresh(self.jumped)

    def jumped(self):
        result["jump_end"] = time.perf_counter() - self.t1
        self.exit()

Bench().run(headless=True, size=(160, 50))
result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps(result))
'''


def make_pair(folder: Path) -> tuple[Path, Path]:
    rng = random.Random(5000)
    before = [f"line {n}: " + " ".join(rng.choice(["alpha", "beta", "gamma", "delta", "memory",
                                                    "skill", "token", "model"]) for _ in range(8))
              for n in range(LINES)]
    after = list(before)
    changed = 0
    while changed < LINES // 10:
        at = rng.randrange(len(after) - 10)
        size = rng.randint(1, 6)
        op = rng.choice(["replace", "insert", "delete"])
        if op == "replace":
            for k in range(size):
                after[at + k] = after[at + k].replace("alpha", "ALPHA") + " (changed)"
        elif op == "insert":
            after[at:at] = [f"new line {at}-{k}" for k in range(size)]
        else:
            del after[at:at + size]
        changed += size
    a, b = folder / "before.txt", folder / "after.txt"
    a.write_text("\n".join(before) + "\n")
    b.write_text("\n".join(after) + "\n")
    return a, b


def run(kind: str, before: Path, after: Path) -> dict | str:
    code = (CHILD.replace("ROOT", repr(str(ROOT))).replace("BEFORE", repr(str(before)))
            .replace("AFTER", repr(str(after))).replace("KIND", repr(kind)))
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=600, check=False)
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["failed"])[-1]
        return last
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        before, after = make_pair(Path(tmp))
        print(f"{LINES:,}-line pair, 10% of lines changed; headless 160x50; one process each\n")
        print(f"{'widget':<22}{'first paint':>14}{'jump to end':>14}{'peak RSS':>12}")
        goals = {"first_paint": 0.5, "jump_end": 0.05, "peak_rss_mb": 60}
        for kind, label in (("ours", "hermes-tui DiffView"), ("theirs", "textual-diff-view")):
            if kind == "theirs":
                try:
                    import textual_diff_view  # noqa: F401
                except ImportError:
                    print(f"{label:<22}  not installed (pip install textual-diff-view)")
                    continue
            res = run(kind, before, after)
            if isinstance(res, str):
                print(f"{label:<22}  failed: {res}")
                continue
            print(f"{label:<22}{res['first_paint']:>12.3f} s{res['jump_end'] * 1000:>11.1f} ms"
                  f"{res['peak_rss_mb']:>9.0f} MB")
            if kind == "ours":
                verdict = ", ".join(
                    f"{name} {'meets' if res[name] <= goal else 'misses'} goal {goal}"
                    for name, goal in goals.items())
                print(f"{'':<22}{verdict}")


if __name__ == "__main__":
    main()
