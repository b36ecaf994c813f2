"""Memory files as Hermes keeps them: §-separated entries under a character cap.

Also the text transforms the memory and SOUL mappers share (Markdown → entries, rebranding).
"""

from __future__ import annotations

import re

MEMORY_SEPARATOR = "\n§\n"
MEMORY_CHAR_LIMIT = 2200
USER_CHAR_LIMIT = 1375
_BRAND_RE = re.compile(r"open[ \t]?claw|clawdbot|moltbot", re.IGNORECASE)
_NOISE_HEADING_RE = re.compile(r"^(memory|user|soul|agents|tools|identity)(\.md)?$", re.IGNORECASE)


def rebrand(text: str) -> str:
    """OpenClaw / Open Claw / ClawdBot / MoltBot → Hermes (all-lowercase → hermes)."""
    return _BRAND_RE.sub(lambda m: "hermes" if m.group(0).islower() else "Hermes", text)


def _norm(entry: str) -> str:
    return " ".join(entry.split())


def extract_entries(text: str) -> list[str]:
    """Markdown → memory entries: each bullet and paragraph, prefixed with its heading path.

    Headings that only name the file (MEMORY.md, USER ...) are dropped from the prefix;
    fenced code and table rows are skipped; duplicates (whitespace-normalised) removed.
    """
    entries: list[str] = []
    seen: set[str] = set()
    stack: list[tuple[int, str]] = []
    para: list[str] = []
    in_fence = False

    def add(body: str) -> None:
        body = _norm(body)
        if not body:
            return
        heads = [t for _, t in stack if not _NOISE_HEADING_RE.match(t)]
        entry = f"{' > '.join(heads)}: {body}" if heads else body
        if _norm(entry) not in seen:
            seen.add(_norm(entry))
            entries.append(entry)

    def flush() -> None:
        if para:
            add(" ".join(para))
            para.clear()

    for line in text.splitlines():
        s = line.strip()
        if s.startswith(("```", "~~~")):
            flush()
            in_fence = not in_fence
            continue
        if in_fence:
            continue
        heading = re.match(r"(#{1,6})\s+(.*)$", s)
        if heading:
            flush()
            level = len(heading.group(1))
            title = heading.group(2).strip().rstrip("#").strip()
            while stack and stack[-1][0] >= level:
                stack.pop()
            stack.append((level, title))
            continue
        if not s or s.startswith("|"):
            flush()
            continue
        bullet = re.match(r"(?:[-*+]|\d+[.)])\s+(.*)$", s)
        if bullet:
            flush()
            add(bullet.group(1))
            continue
        para.append(s)
    flush()
    return entries


def split_memory(text: str) -> list[str]:
    return [e.strip() for e in text.replace("\r\n", "\n").split(MEMORY_SEPARATOR) if e.strip()]


def render_memory(entries: list[str]) -> str:
    return MEMORY_SEPARATOR.join(entries) + "\n" if entries else ""


def merge_entries(existing: list[str], new: list[str], cap: int) -> tuple[list[str], list[str]]:
    """``existing`` plus the new entries that are not there yet and still fit under ``cap``."""
    merged = list(existing)
    seen = {_norm(e) for e in merged}
    overflow = []
    for entry in new:
        if _norm(entry) in seen:
            continue
        if len(MEMORY_SEPARATOR.join([*merged, entry])) > cap:
            overflow.append(entry)
            continue
        merged.append(entry)
        seen.add(_norm(entry))
    return merged, overflow
