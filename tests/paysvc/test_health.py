"""/healthz and /readyz."""

import pytest

from paysvc import health


@pytest.mark.django_db
def test_healthz_answers_without_touching_dependencies(client, monkeypatch):
    monkeypatch.setattr(health, "check_database", _boom)

    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_readyz_is_200_when_database_and_broker_answer(client):
    response = client.get("/readyz")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["failing"] == []
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["broker"]["ok"] is True


@pytest.mark.django_db
def test_readyz_names_the_database_when_it_fails(client, monkeypatch):
    monkeypatch.setattr(health, "check_database", _boom)

    response = client.get("/readyz")

    assert response.status_code == 503
    assert response.json()["failing"] == ["database"]


@pytest.mark.django_db
def test_readyz_names_the_broker_when_it_is_unreachable(client, monkeypatch):
    # A real connection attempt, to a loopback port where nothing listens.
    from paysvc.celery import app

    connect = app.connection_for_write
    monkeypatch.setattr(app, "connection_for_write", lambda: connect(url="redis://127.0.0.1:9/0"))

    response = client.get("/readyz")

    assert response.status_code == 503
    body = response.json()
    assert body["failing"] == ["broker"]
    assert body["checks"]["broker"]["error"]


@pytest.mark.django_db
def test_readyz_reports_the_worker_heartbeat_age(client):
    from django.utils import timezone

    from paysvc.models import Heartbeat
    from paysvc.tasks import WORKER_HEARTBEAT

    Heartbeat.objects.create(name=WORKER_HEARTBEAT, seen_at=timezone.now())

    body = client.get("/readyz").json()

    assert 0 <= body["checks"]["worker"]["last_seen_seconds"] < 5


def _boom():
    raise ConnectionError("down")
