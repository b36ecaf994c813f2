"""Side-by-side diff on a big file: hermes-tui's DiffView at 100,000 lines, against the same
widget at 5,000 lines (the baseline, measured in the same run) and textual-diff-view.

What it measures
----------------
A file pair with 10% of lines changed (replaced, inserted and deleted in scattered blocks)
and one line in ten long (a ~150-character value, as a long model list or URL would be), so
lines wrap: in one column at 80 columns, and side by side at 120 (each side has ~51
characters) and after ``d`` at 80 (~31). Shown in a headless Textual app at 120x40 and at
80x24, each run in its own fresh Python process so memory figures do not mix:

* first paint: from the app starting to the first frame showing the diff, including the
  diff itself (difflib's pairing, in a worker thread, as the migration screen does it);
* layout ready: to the whole wrap index being known (when many lines wrap it is worked
  out in a thread after the first paint; the lines on screen are wrapped at once);
* jump to end: End pressed (``scroll_end``) to the next frame, in the layout chosen by the
  width and again after ``d`` switched to the other one (once that layout is ready);
* peak RSS of the whole process (ru_maxrss).

Times are CPU seconds of the child process (``time.process_time``: its threads included;
steadier than wall time on a shared machine), the median of ``--runs`` runs. Goals at
100,000 lines (issue 13): first paint <= 0.5 s, jump to end <= 50 ms, peak RSS <= 100 MB.
textual-diff-view (one widget per line) took 9.6 s and 199 MB at 5,000 lines; it is not a
dependency: ``pip install textual-diff-view`` into the venv to include it. Figures are
printed, never asserted. Run: .venv/bin/python bench/diff_view.py [--lines N] [--runs N]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BASELINE = 5_000
SIZES = ((120, 40), (80, 24))
GOALS = {"first_paint": 0.5, "jump_end": 0.05, "jump_end_other": 0.05, "peak_rss_mb": 100}

CHILD = r'''
import asyncio, json, re, resource, sys, time
sys.path.insert(0, ROOT)
from textual.app import App

before = open(BEFORE).read()
after = open(AFTER).read()
last_after = re.compile(rf"(?<!\d){len(after.splitlines())}(?!\d)")
result = {}
clock = time.process_time


class Bench(App):
    async def on_mount(self):
        self.c0 = clock()
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
        result["first_paint"] = clock() - self.c0
        self.run_worker(self.rest())

    async def frame(self):
        done = asyncio.get_running_loop().create_future()
        self.call_after_refresh(lambda: done.done() or done.set_result(None))
        await asyncio.wait_for(done, 60)

    async def ready(self):
        for _ in range(60_000):  # the whole layout, if a thread works it out
            if getattr(self.view, "_pending", None) is None:
                return
            await asyncio.sleep(0.001)
        raise SystemExit("the layout was not ready after 60 s")

    def shows_end(self):
        lines = ["".join(s.text for s in self.view.render_line(y))
                 for y in range(self.view.size.height)]
        return any(last_after.search(line) for line in lines[-4:])

    async def jump(self, name):
        c = clock()
        if KIND == "ours":
            self.view.scroll_end(animate=False)
        else:
            self.screen.scroll_end(animate=False)
        await self.frame()
        result[name] = clock() - c
        if KIND == "ours":
            result[name + "_shows_last"] = self.shows_end()

    async def rest(self):
        await self.ready()
        result["layout_ready"] = clock() - self.c0
        if KIND == "ours":
            result["layout"] = self.view.layout_in_use
        await self.jump("jump_end")
        if KIND == "ours":
            c = clock()
            self.view.toggle_layout()
            await self.ready()
            await self.frame()
            result["toggle"] = clock() - c
            await self.jump("jump_end_other")
        self.exit()


Bench().run(headless=True, size=SIZE)
result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps(result))
'''


def make_pair(folder: Path, lines: int) -> tuple[Path, Path]:
    rng = random.Random(5000)
    words = ["alpha", "beta", "gamma", "delta", "memory", "skill", "token", "model"]
    before = []
    for n in range(lines):
        line = f"line {n}: " + " ".join(rng.choice(words) for _ in range(8))
        if n % 10 == 3:  # a long value: wraps in every layout at 80 columns
            line += " description: " + " ".join(rng.choice(words) for _ in range(16))
        before.append(line)
    after = list(before)
    changed = 0
    while changed < lines // 10:
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
    a, b = folder / f"before-{lines}.txt", folder / f"after-{lines}.txt"
    a.write_text("\n".join(before) + "\n")
    b.write_text("\n".join(after) + "\n")
    return a, b


def run(kind: str, before: Path, after: Path, size: tuple[int, int],
        root: Path = ROOT) -> dict | str:
    code = (CHILD.replace("ROOT", repr(str(root))).replace("BEFORE", repr(str(before)))
            .replace("AFTER", repr(str(after))).replace("KIND", repr(kind))
            .replace("SIZE", repr(size)))
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=600, check=False)
    if proc.returncode != 0:
        return (proc.stderr.strip().splitlines() or ["failed"])[-1]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def median_of(runs: list[dict]) -> dict:
    out = dict(runs[-1])
    for key, value in runs[0].items():
        if isinstance(value, float):
            out[key] = statistics.median(r[key] for r in runs)
    return out


def row(label: str, res: dict) -> str:
    def ms(key: str) -> str:
        return f"{res[key] * 1000:>8.1f} ms" if key in res else f"{'—':>11}"
    ends = "yes" if res.get("jump_end_shows_last", True) and res.get(
        "jump_end_other_shows_last", True) else "NO"
    return (f"{label:<28}{res['first_paint']:>9.3f} s{res['layout_ready']:>9.3f} s"
            f"{ms('jump_end')}{ms('toggle')}{ms('jump_end_other')}"
            f"{res['peak_rss_mb']:>8.0f} MB  {res.get('layout', ''):<9}{ends}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3, help="runs per figure (median)")
    parser.add_argument("--root", type=Path, default=ROOT,
                        help="the hermes-tui checkout to measure (e.g. an older commit's)")
    args = parser.parse_args()
    try:
        import textual_diff_view  # noqa: F401
        theirs = True
    except ImportError:
        theirs = False

    with tempfile.TemporaryDirectory() as tmp:
        pairs = {n: make_pair(Path(tmp), n) for n in dict.fromkeys((BASELINE, args.lines))}
        print(f"10% of lines changed, 1 in 10 long; CPU time of each child process, median of "
              f"{args.runs}\n")
        print(f"{'widget, lines, size':<28}{'1st paint':>11}{'layout':>11}{'jump end':>11}"
              f"{'d layout':>11}{'jump end':>11}{'peak RSS':>11}  {'layout':<9}end shown")
        results = {}
        for lines, (before, after) in pairs.items():
            for size in SIZES:
                label = f"DiffView {lines:,} {size[0]}x{size[1]}"
                runs = [run("ours", before, after, size, args.root) for _ in range(args.runs)]
                failed = next((r for r in runs if isinstance(r, str)), None)
                if failed is not None:
                    print(f"{label:<28}  failed: {failed}")
                    continue
                results[lines, size] = median_of(runs)
                print(row(label, results[lines, size]))
        if theirs:
            res = run("theirs", *pairs[BASELINE], SIZES[0])
            label = f"textual-diff-view {BASELINE:,}"
            print(f"{label:<28}  failed: {res}" if isinstance(res, str) else row(label, res))
        else:
            print(f"{'textual-diff-view':<28}  not installed (pip install textual-diff-view)")

        print(f"\nGoals at {args.lines:,} lines: first paint <= {GOALS['first_paint']} s, jump to "
              f"end <= {GOALS['jump_end'] * 1000:.0f} ms (both layouts), peak RSS <= "
              f"{GOALS['peak_rss_mb']} MB")
        for size in SIZES:
            res, base = results.get((args.lines, size)), results.get((BASELINE, size))
            if res is None:
                continue
            verdict = ", ".join(f"{name} {'meets' if res[name] <= goal else 'MISSES'}"
                                for name, goal in GOALS.items())
            ratio = (f"; first paint {res['first_paint'] / base['first_paint']:.1f}x the "
                     f"{BASELINE:,}-line one" if base and args.lines != BASELINE else "")
            print(f"  {size[0]}x{size[1]}: {verdict}{ratio}")


if __name__ == "__main__":
    main()
