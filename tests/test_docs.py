"""The repo cites only its own docs (docs/README.md): `docs/check_citations.py` finds no problem.

A problem is an old-style citation of a document outside the repository anywhere outside docs/
(the checker's OLD_CITATIONS), a `docs/<page>.md#<anchor>` whose page or anchor does not exist,
a broken relative link in a Markdown file, or a target in docs/citations.json that does not
resolve. The test fails with the checker's problem lines.
"""

from __future__ import annotations

import importlib.util
from types import ModuleType

from tests.live import REPO_ROOT

CHECKER = REPO_ROOT / "docs" / "check_citations.py"


def load_checker() -> ModuleType:
    spec = importlib.util.spec_from_file_location("check_citations", CHECKER)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_repo_cites_only_its_docs_and_every_docs_anchor_resolves() -> None:
    problems = load_checker().problems()
    assert not problems, "docs/check_citations.py found problems:\n" + "\n".join(problems)


def test_the_checker_finds_an_old_citation_even_across_a_comment_line_break() -> None:
    checker = load_checker()
    old = "REFER" + "ENCE"  # split, so that this file is no old citation itself
    text = f"x = 1  # see the\n# {old}\n# 3.5 for retries\n"
    assert checker.old_citations(text, checker.OLD_CITATIONS) == [(2, f"{old} 3.5")]
