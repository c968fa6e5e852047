import pytest

from watchprice import health


@pytest.mark.django_db
def test_health_answers_200_with_each_check_and_needs_no_login(client):
    response = client.get("/api/health")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert {name: check["status"] for name, check in body["checks"].items()} == {
        "database": "ok",
        "broker": "ok",
        "cache": "ok",
    }


@pytest.mark.django_db
def test_health_reports_a_broken_cache_as_503_naming_it(client, monkeypatch):
    def broken_cache():
        raise ConnectionError("cache down")

    monkeypatch.setitem(health.CHECKS, "cache", broken_cache)
    response = client.get("/api/health")

    assert response.status_code == 503
    assert response.json()["checks"]["cache"] == {
        "status": "error",
        "error": "ConnectionError: cache down",
        "ms": response.json()["checks"]["cache"]["ms"],
    }


@pytest.mark.django_db
def test_health_reports_an_unreachable_broker(client, monkeypatch, unused_loopback_port):
    # A loopback port nobody listens on: the check must fail fast, not hang.
    monkeypatch.setattr(
        health.celery_app.conf, "broker_url", f"redis://127.0.0.1:{unused_loopback_port}/0"
    )
    response = client.get("/api/health")

    assert response.status_code == 503
    assert response.json()["checks"]["broker"]["status"] == "error"


def test_health_refuses_post(client):
    assert client.post("/api/health").status_code == 405
