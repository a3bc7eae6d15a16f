"""clients/authentication.py (with clients/principal.py and clients/schema.py)"""

import logging

import pytest
from django.urls import path
from drf_spectacular.generators import SchemaGenerator
from rest_framework.settings import api_settings
from rest_framework.test import APIRequestFactory

from clients.authentication import ApiKeyAuthentication
from clients.keys import generate_raw_key
from clients.parsers import DecimalJSONParser
from clients.permissions import HasApiKey, RequiredScopes
from clients.principal import ClientPrincipal
from clients.services import api_key_revoke, application_update
from clients.throttling import ApiKeyRateThrottle
from tests.clients.views import ProbeView
from tests.factories import api_key_factory

pytestmark = pytest.mark.django_db

factory = APIRequestFactory()
probe = ProbeView.as_view()
WWW_AUTHENTICATE = 'Bearer realm="paysvc"'


def call(authorization=None):
    headers = {} if authorization is None else {"HTTP_AUTHORIZATION": authorization}
    return probe(factory.get("/api/v1/probe", **headers))


def test_a_good_key_authenticates_as_its_application(key_and_raw):
    api_key, raw_key = key_and_raw

    response = call(f"Bearer {raw_key}")

    assert response.status_code == 200
    assert response.data["application"] == "shop"
    assert response.data["prefix"] == api_key.prefix
    api_key.refresh_from_db()
    assert api_key.last_used_at is not None


def test_the_scheme_name_is_case_insensitive(key_and_raw):
    _, raw_key = key_and_raw

    assert call(f"bearer {raw_key}").status_code == 200


def test_no_header_is_401_not_authenticated_with_www_authenticate(db):
    response = call()

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == WWW_AUTHENTICATE
    assert response.data["error"]["code"] == "not_authenticated"


def test_another_scheme_is_401_not_authenticated(key_and_raw):
    _, raw_key = key_and_raw

    response = call(f"Basic {raw_key}")

    assert response.status_code == 401
    assert response.data["error"]["code"] == "not_authenticated"


@pytest.mark.parametrize(
    "authorization",
    ["Bearer", "Bearer ", "Bearer a b", "Bearer not-a-key", "Bearer psk_live_short"],
)
def test_a_malformed_bearer_header_is_401_authentication_failed(db, authorization):
    response = call(authorization)

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == WWW_AUTHENTICATE
    assert response.data["error"]["code"] == "authentication_failed"


def test_a_non_ascii_key_is_401(db):
    request = factory.get(
        "/api/v1/probe", HTTP_AUTHORIZATION="Bearer psk_live_é".encode().decode("latin-1")
    )

    response = probe(request)

    assert response.status_code == 401


def test_an_unknown_key_is_401_and_neither_echoed_nor_logged(key_and_raw, caplog):
    caplog.set_level(logging.DEBUG)
    wrong = generate_raw_key()

    response = call(f"Bearer {wrong}")

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == WWW_AUTHENTICATE
    assert response.data["error"]["code"] == "authentication_failed"
    assert wrong not in str(response.data)
    assert wrong[12:] not in caplog.text


def test_a_revoked_key_is_401(key_and_raw):
    api_key, raw_key = key_and_raw
    api_key_revoke(api_key=api_key)

    response = call(f"Bearer {raw_key}")

    assert response.status_code == 401
    assert response.data["error"]["code"] == "authentication_failed"


def test_a_key_of_an_inactive_application_is_401(key_and_raw, application):
    _, raw_key = key_and_raw
    application_update(application=application, is_active=False)

    response = call(f"Bearer {raw_key}")

    assert response.status_code == 401
    assert response.data["error"]["code"] == "authentication_failed"


def test_keys_of_two_applications_are_different_principals(key_and_raw):
    _, raw_a = key_and_raw
    other_key, raw_b = api_key_factory()

    answer_a = call(f"Bearer {raw_a}").data
    answer_b = call(f"Bearer {raw_b}").data

    assert answer_a["application"] == "shop"
    assert answer_b["application"] == other_key.application.name
    assert answer_a["prefix"] != answer_b["prefix"]


def test_the_principal_is_an_authenticated_non_staff_identity(key_and_raw):
    api_key, _ = key_and_raw

    principal = ClientPrincipal(api_key=api_key)

    assert principal.is_authenticated and not principal.is_anonymous
    assert not principal.is_staff and not principal.is_superuser
    assert principal.application == api_key.application
    assert principal.pk == api_key.application.pk
    assert principal.has_scope("orders:read")
    assert api_key.prefix in str(principal)


def test_the_schema_declares_a_bearer_security_scheme():
    generator = SchemaGenerator(patterns=[path("api/v1/probe", ProbeView.as_view())])

    schema = generator.get_schema(request=None, public=True)

    scheme = schema["components"]["securitySchemes"]["ApiKeyAuth"]
    assert scheme["type"] == "http"
    assert scheme["scheme"] == "bearer"
    assert schema["paths"]["/api/v1/probe"]["get"]["security"] == [{"ApiKeyAuth": []}]


def test_the_api_defaults_authenticate_by_api_key():
    # Fails until paysvc/settings.py wires the clients app into REST_FRAMEWORK.
    assert list(api_settings.DEFAULT_AUTHENTICATION_CLASSES) == [ApiKeyAuthentication]
    assert list(api_settings.DEFAULT_PERMISSION_CLASSES) == [HasApiKey, RequiredScopes]
    assert list(api_settings.DEFAULT_THROTTLE_CLASSES) == [ApiKeyRateThrottle]
    assert list(api_settings.DEFAULT_PARSER_CLASSES) == [DecimalJSONParser]
