"""Check that the repo cites only its own docs: ``python docs/check_citations.py``.

1. No old-style citation is left outside ``docs/``: ``REFERENCE 3.5``, ``RELIABILITY b.3 #18``,
   ``STYLE rule 6``, ``seed 004``, ``DESIGN.md "Admin"``, ``shared/...`` (the regexes in
   ``OLD_CITATIONS``; a citation may span a line break, so comment continuation lines are joined
   first). Those forms named documents kept outside the repository; code, comments and READMEs
   now cite ``docs/<page>.md#<anchor>`` instead. Each one found is a problem, reported with the
   target(s) to write instead when the form is in the map.
2. ``docs/citations.json`` stays as the record of what each old form meant (a target, or a list
   of targets for a compound citation), for reading old commits, branches and patches; every
   target in it must name an existing ``docs/*.md`` file and, after ``#``, an anchor that one of
   its headings produces (GitHub's rule: lower-case, punctuation dropped, spaces to hyphens,
   ``-1``/``-2`` for repeats).
3. Every ``docs/<name>.md#<anchor>`` written anywhere in the repo resolves, and so does every
   relative Markdown link (``[text](../docs/<page>.md#<anchor>)``) in any ``.md`` file: its file
   exists and, for a page of ``docs/``, its anchor too.

In ``docs/`` only the pages are searched, and only for ``shared/...`` (they must stand alone):
they quote the other old forms as section tags, and this file and the map name them all.
``tests/test_docs.py`` runs ``problems()`` in the test suite (``make test``).
Exit status 1 with one line per problem; 0 when all is well. Standard library only.
"""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
SKIP_DIRS = {
    ".git", ".venv", "var", "node_modules", "__pycache__", ".ruff_cache", ".mypy_cache",
    ".pytest_cache", "build", "dist",
}  # fmt: skip
SUFFIXES = {
    ".py", ".md", ".html", ".txt", ".toml", ".yml", ".yaml", ".json", ".js", ".css", ".template",
    ".conf", ".cfg", ".ini", ".sh",
}  # fmt: skip
NAMES = {".env.example", "Makefile", "Dockerfile", "README", "run"}

_SEC = r"§?\s?[0-9]+(?:\.(?:[0-9]+|x))*"
_SEP = r"(?:\s?[-\u2013/]\s?|,\s|\sand\s)"
_REL_ITEM = r"#[0-9]+(?:(?:,\s|/|\s)#[0-9]+)*"
OLD_CITATIONS = [
    re.compile(rf"(?<!\w)REFERENCE(?!\w)(?:\.md)?(?:\s({_SEC}(?:{_SEP}{_SEC})*))?"),
    re.compile(
        r"(?<!\w)RELIABILITY(?!\w)(?:\.md)?(?::)?"
        rf"(?:\s(?:(?:[bc]\.[0-9](?:\s?{_REL_ITEM})?|{_REL_ITEM})"
        rf"(?:,\s(?:[bc]\.[0-9]\s?)?#?[0-9]+(?:\s#[0-9]+)*)*|\"[^\"]+\"))?"
    ),
    re.compile(r"(?<!\w)DESIGN(?!\w)(?:\.md)?,?\s?(?:\"[^\"]+\")?"),
    re.compile(r"(?<!\w)STYLE rules? [0-9]+(?: and [0-9]+)?"),
    re.compile(r"(?<!\w)[Ss]eeds? [0-9]{3}(?:(?:/| and )[0-9]{3})?"),
    re.compile(r"(?<!\w)shared/[\w./*-]+"),
]
DOC_REF = re.compile(r"docs/([\w-]+\.md)(?:#([\w-]+))?")
MD_LINK = re.compile(r"\]\((?!https?:)([\w./-]*?\.md)?(?:#([\w-]+))?\)")
HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$")


def slugify(text: str) -> str:
    """GitHub's heading anchor: drop markup and punctuation, lower-case, spaces to hyphens."""
    text = re.sub(r"`([^`]*)`", r"\1", text)
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)
    text = text.strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    found: set[str] = set()
    seen: dict[str, int] = {}
    in_code = False
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("```"):
            in_code = not in_code
            continue
        match = None if in_code else HEADING.match(line)
        if match is None:
            continue
        slug = slugify(match.group(1))
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        found.add(slug if count == 0 else f"{slug}-{count}")
    return found


def repo_files() -> list[Path]:
    files = []
    for directory, subdirs, names in os.walk(ROOT):
        subdirs[:] = sorted(d for d in subdirs if d not in SKIP_DIRS and "egg-info" not in d)
        for name in names:
            if Path(name).suffix in SUFFIXES or name in NAMES:
                files.append(Path(directory, name))
    return sorted(files)


def targets(value: str | list[str]) -> list[str]:
    return value if isinstance(value, list) else [value]


def check_target(target: str, index: dict[str, set[str]]) -> str | None:
    name, _, anchor = target.partition("#")
    if not name.startswith("docs/") or Path(name).name not in index:
        return f"no such docs file: {target}"
    if anchor and anchor not in index[Path(name).name]:
        return f"no such anchor: {target}"
    return None


def old_citations(text: str, patterns: list[re.Pattern[str]]) -> list[tuple[int, str]]:
    """(line number, whitespace-normalised form) of each match of ``patterns`` in ``text``."""
    # Join comment continuation lines ("\n    # ") and docstring ones ("\n    ") so that a
    # citation broken across lines is seen whole; remember where each joined offset came from.
    pieces, starts, pos = [], [], 0
    for match in re.finditer(r"\n[ \t]*(?:#[ \t]*)?", text):
        pieces.append(text[pos : match.start()] + " ")
        starts.append(pos)
        pos = match.end()
    pieces.append(text[pos:])
    starts.append(pos)
    joined = "".join(pieces)
    offsets = [0]
    for piece in pieces:
        offsets.append(offsets[-1] + len(piece))
    found = []
    for pattern in patterns:
        for match in pattern.finditer(joined):
            form = re.sub(r"\s+", " ", match.group(0)).strip().rstrip(",")
            i = next(k for k in range(len(pieces)) if offsets[k + 1] > match.start())
            line = text.count("\n", 0, starts[i] + match.start() - offsets[i]) + 1
            found.append((line, form))
    return sorted(found)


def problems() -> list[str]:
    """One line per problem; empty when the docs and every citation of them are in order."""
    index = {path.name: anchors(path) for path in DOCS.glob("*.md")}
    mapping = json.loads((DOCS / "citations.json").read_text(encoding="utf-8"))
    found = []
    for form, value in mapping.items():
        for target in targets(value):
            error = check_target(target, index)
            if error:
                found.append(f"docs/citations.json {form!r}: {error}")
    for path in repo_files():
        rel = path.relative_to(ROOT)
        text = path.read_text(encoding="utf-8", errors="replace")
        if rel.parts[0] != "docs":
            patterns = OLD_CITATIONS
        else:  # the pages quote the old forms as section tags; they only must not lean on shared/
            patterns = OLD_CITATIONS[-1:] if path.suffix == ".md" else []
        for line, form in old_citations(text, patterns):
            hint = f" (write {', '.join(targets(mapping[form]))})" if form in mapping else ""
            found.append(f"{rel}:{line}: old-style citation {form!r}{hint}")
        for match in DOC_REF.finditer(text):
            target = f"docs/{match.group(1)}" + (f"#{match.group(2)}" if match.group(2) else "")
            error = check_target(target, index)
            if error:
                line = text.count("\n", 0, match.start()) + 1
                found.append(f"{rel}:{line}: {error}")
        if path.suffix == ".md":
            for match in MD_LINK.finditer(text):
                linked = (path.parent / match.group(1)).resolve() if match.group(1) else path
                line = text.count("\n", 0, match.start()) + 1
                anchor = match.group(2)
                if not linked.is_file():
                    found.append(f"{rel}:{line}: broken link to {match.group(1)}")
                elif linked.parent == DOCS and anchor and anchor not in index.get(linked.name, ()):
                    found.append(f"{rel}:{line}: broken link to {linked.name}#{anchor}")
    return found


def main() -> int:
    found = problems()
    for line in found:
        print(line)
    print(f"{len(found)} problems")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
