"""docs/reliability.md#44-check-deploy: `manage.py check --deploy --fail-level WARNING` exits 0 with
compose's production environment, and the check is live (an insecure environment fails it)."""

from __future__ import annotations

import secrets
import subprocess
import sys

import pytest

from tests.live import REPO_ROOT
from tests.paysvc.compose import service_env


def run_deploy_check(env: dict[str, str], tmp_path) -> subprocess.CompletedProcess[str]:
    base = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "paysvc.settings",  # production settings, not settings_test
        "PAYSVC_VAR_DIR": str(tmp_path / "var"),
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "prometheus"),
    }
    argv = [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"]
    return subprocess.run(
        argv, cwd=REPO_ROOT, env={**base, **env}, capture_output=True, text=True, timeout=120
    )


def compose_web_env() -> dict[str, str]:
    return service_env("web", {"DJANGO_SECRET_KEY": secrets.token_urlsafe(50)})


def test_compose_refuses_to_start_without_a_secret_key():
    with pytest.raises(KeyError, match="DJANGO_SECRET_KEY"):
        service_env("web", {})


def test_the_deploy_check_passes_with_compose_production_environment(tmp_path):
    done = run_deploy_check(compose_web_env(), tmp_path)

    assert done.returncode == 0, done.stdout + done.stderr
    assert "System check identified no issues (0 silenced)." in done.stdout


@pytest.mark.parametrize(
    ("override", "check_id"),
    [
        ({"DJANGO_SECURE_COOKIES": "0"}, "security.W012"),
        ({"DJANGO_SECURE_HSTS_PRELOAD": "0"}, "security.W021"),
        ({"DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS": "0"}, "security.W005"),
        ({"DJANGO_SECURE_SSL_REDIRECT": "0"}, "security.W008"),
        ({"DJANGO_SECRET_KEY": "compose-demo-secret-key-change-me"}, "security.W009"),
    ],
)
def test_the_deploy_check_fails_when_a_production_setting_is_off(tmp_path, override, check_id):
    done = run_deploy_check({**compose_web_env(), **override}, tmp_path)

    assert done.returncode != 0
    assert check_id in done.stderr + done.stdout
