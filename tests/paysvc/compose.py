"""docker-compose.yml as the tests see it: services' environments with `${VAR...}` resolved.

Resolution follows compose's rules for the forms the file uses: `${VAR:-default}` and
`${VAR-default}` take VAR from `given` or else the default, `${VAR:?message}` requires VAR in
`given` (KeyError naming it otherwise), `${VAR}` requires it too.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from tests.live import REPO_ROOT

COMPOSE_FILE = REPO_ROOT / "docker-compose.yml"
_REF = re.compile(r"\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}")


def load(path: Path = COMPOSE_FILE) -> dict[str, Any]:
    return yaml.safe_load(path.read_text())


def resolve(value: str, given: Mapping[str, str]) -> str:
    def one(match: re.Match[str]) -> str:
        name, op, arg = match["name"], match["op"], match["arg"]
        present = name in given and (given[name] != "" or op in (None, "-", "?"))
        if present:
            return given[name]
        if op in (":-", "-"):
            return arg
        raise KeyError(f"{name}: {arg or 'required'}")

    return _REF.sub(one, value.replace("$$", "\0")).replace("\0", "$")


def service_env(service: str, given: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment compose gives `service`, with `given` as the shell's variables."""
    env = load()["services"][service].get("environment", {})
    return {key: resolve(str(value), given or {}) for key, value in env.items()}
