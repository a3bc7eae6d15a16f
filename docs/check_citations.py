"""Check docs/citations.json and the docs' anchors: ``python docs/check_citations.py``.

1. Every value in ``docs/citations.json`` (a string or a list of strings) names an existing
   ``docs/*.md`` file and, after ``#``, an anchor that one of its headings produces (GitHub's
   rule: lower-case, punctuation dropped, spaces to hyphens, ``-1``/``-2`` for repeats).
2. Every old-style citation still in the code (``REFERENCE 3.5``, ``RELIABILITY b.3 #18``,
   ``STYLE rule 6``, ``seed 004``, ``DESIGN.md "Admin"``, ``shared/...``) is a key of the map.
3. Every ``docs/<name>.md#<anchor>`` written anywhere in the repo, and every relative link
   between the docs, resolves.

Exit status 1 with one line per problem; 0 when all is well. Standard library only.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
SKIP_DIRS = {".git", ".venv", "var", "node_modules", "__pycache__"}
SUFFIXES = {".py", ".md", ".html", ".txt", ".toml", ".yml", ".json"}

_SEC = r"§?\s?[0-9]+(?:\.(?:[0-9]+|x))*"
_SEP = r"(?:\s?[-\u2013/]\s?|,\s|\sand\s)"
_REL_ITEM = r"#[0-9]+(?:(?:,\s|/|\s)#[0-9]+)*"
OLD_CITATIONS = [
    re.compile(rf"REFERENCE(?:\.md)?(?:\s({_SEC}(?:{_SEP}{_SEC})*))?"),
    re.compile(
        rf"RELIABILITY(?:\.md)?(?::)?(?:\s(?:(?:[bc]\.[0-9](?:\s?{_REL_ITEM})?|{_REL_ITEM})"
        rf"(?:,\s(?:[bc]\.[0-9]\s?)?#?[0-9]+(?:\s#[0-9]+)*)*|\"[^\"]+\"))?"
    ),
    re.compile(r"DESIGN(?:\.md)?,?\s?(?:\"[^\"]+\")?"),
    re.compile(r"STYLE rules? [0-9]+(?: and [0-9]+)?"),
    re.compile(r"[Ss]eeds? [0-9]{3}(?:(?:/| and )[0-9]{3})?"),
    re.compile(r"shared/[\w./*-]+"),
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
    for path in ROOT.rglob("*"):
        parts = set(path.relative_to(ROOT).parts)
        wanted = path.suffix in SUFFIXES or path.name == ".env.example"
        if wanted and path.is_file() and not parts & SKIP_DIRS:
            files.append(path)
    return sorted(files)


def check_target(target: str, index: dict[str, set[str]]) -> str | None:
    name, _, anchor = target.partition("#")
    if not name.startswith("docs/") or Path(name).name not in index:
        return f"no such docs file: {target}"
    if anchor and anchor not in index[Path(name).name]:
        return f"no such anchor: {target}"
    return None


def main() -> int:
    index = {path.name: anchors(path) for path in DOCS.glob("*.md")}
    mapping = json.loads((DOCS / "citations.json").read_text(encoding="utf-8"))
    problems = []
    for form, value in mapping.items():
        targets = value if isinstance(value, list) else [value]
        for target in targets:
            error = check_target(target, index)
            if error:
                problems.append(f"citations.json {form!r}: {error}")
    for path in repo_files():
        rel = path.relative_to(ROOT)
        text = path.read_text(encoding="utf-8", errors="replace")
        if rel.parts[0] != "docs":
            joined = re.sub(r"\n[ \t]*(?:#[ \t]*)?", " ", text)
            for pattern in OLD_CITATIONS:
                for match in pattern.finditer(joined):
                    form = re.sub(r"\s+", " ", match.group(0)).strip().rstrip(",")
                    if form not in mapping:
                        problems.append(f"{rel}: citation {form!r} is not in citations.json")
        for match in DOC_REF.finditer(text):
            target = f"docs/{match.group(1)}" + (f"#{match.group(2)}" if match.group(2) else "")
            error = check_target(target, index)
            if error:
                problems.append(f"{rel}: {error}")
        if rel.parts[0] == "docs" and path.suffix == ".md":
            for match in MD_LINK.finditer(text):
                name = Path(match.group(1)).name if match.group(1) else path.name
                if name in index and match.group(2) and match.group(2) not in index[name]:
                    problems.append(f"{rel}: broken link to {name}#{match.group(2)}")
                elif match.group(1) and not (path.parent / match.group(1)).exists():
                    problems.append(f"{rel}: broken link to {match.group(1)}")
    for line in problems:
        print(line)
    print(
        f"{len(mapping)} citation forms, {sum(map(len, index.values()))} anchors, "
        f"{len(problems)} problems"
    )
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
