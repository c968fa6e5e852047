"""The OpenAPI schema generates without warnings, and its pages are for signed-in accounts."""

import re

import pytest
import yaml
from django.core.cache import cache
from django.core.management import call_command
from rest_framework.test import APIClient


@pytest.fixture(autouse=True)
def throttle_counts_start_empty(settings):
    # The default file cache outlives the test run; throttle counts kept there would add up
    # across runs until the suite itself is throttled.
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    cache.clear()


@pytest.fixture
def api_client():
    return APIClient()


def test_the_schema_generates_without_warnings_and_documents_every_catalog_endpoint(tmp_path):
    path = tmp_path / "schema.yaml"

    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(path))

    paths = yaml.safe_load(path.read_text())["paths"]
    assert set(paths["/api/watches/"]) == {"get", "post"}
    assert set(paths["/api/watches/{id}/"]) == {"get", "put", "patch"}
    assert set(paths["/api/brands/"]) == {"get", "post"}
    assert set(paths["/api/brands/{id}/"]) == {"get"}
    for resource in ["retailers", "listings"]:
        assert set(paths[f"/api/{resource}/"]) == {"get", "post"}
        assert set(paths[f"/api/{resource}/{{id}}/"]) == {"get", "put", "patch"}


def test_the_schema_documents_how_a_watch_names_its_brand_and_its_filters(tmp_path):
    path = tmp_path / "schema.yaml"
    call_command("spectacular", "--file", str(path))
    schema = yaml.safe_load(path.read_text())

    watch_request = schema["components"]["schemas"]["WatchRequest"]["properties"]
    watch = schema["components"]["schemas"]["Watch"]["properties"]
    list_parameters = {p["name"] for p in schema["paths"]["/api/watches/"]["get"]["parameters"]}

    assert "slug" in watch_request["brand"]["description"]
    assert "brand_name" not in watch_request
    assert watch["lowest_market_price"]["readOnly"] is True
    assert re.fullmatch(watch_request["msrp"]["pattern"], "15100.50")
    assert not re.fullmatch(watch_request["msrp"]["pattern"], "-1.00")
    assert list_parameters >= {"brand", "category", "currency", "reference", "q", "ordering"}


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/api/schema/", "/api/docs/"])
def test_the_schema_and_its_docs_refuse_anonymous_callers(api_client, url):
    assert api_client.get(url).status_code == 401


def test_the_docs_render_for_a_signed_in_account(api_client, user):
    api_client.force_login(user)

    response = api_client.get("/api/docs/")

    assert response.status_code == 200
    assert "swagger-ui" in response.content.decode()
    assert "/api/schema/" in response.content.decode()


def test_the_schema_is_served_to_a_signed_in_account(api_client, user):
    api_client.force_login(user)

    response = api_client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")

    assert response.status_code == 200
    assert "/api/watches/" in response.json()["paths"]
