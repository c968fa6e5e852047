import os

import pytest

# CI sets this on the run against PostgreSQL and Redis: a test that needs a service it cannot
# reach must fail there, not quietly skip.
REQUIRE_SERVICES = os.environ.get("WATCHPRICE_REQUIRE_SERVICES") == "1"


def skip_or_fail(reason: str) -> None:
    if REQUIRE_SERVICES:
        pytest.fail(f"{reason} (WATCHPRICE_REQUIRE_SERVICES=1 makes this a failure)")
    pytest.skip(reason)


# Factories are imported inside fixtures so the pure-computation tests (extraction, Merkle
# proofs) also run without Django: `pytest tests/ledger/test_merkle.py -p no:django`.
@pytest.fixture
def user(db):
    from tests.factories import UserFactory

    return UserFactory()


@pytest.fixture
def admin_user(db):
    from tests.factories import UserFactory

    return UserFactory(username="admin", is_staff=True, is_superuser=True)


def grant(user, *codenames: str):
    """Give a user model permissions by 'app_label.codename'."""
    from django.contrib.auth.models import Permission

    for dotted in codenames:
        app_label, codename = dotted.split(".")
        user.user_permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
        )
    # Django caches permissions on the instance; a fresh copy sees the new ones.
    return type(user).objects.get(pk=user.pk)


@pytest.fixture
def unused_loopback_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(autouse=True)
def empty_cache():
    """Every test starts with an empty cache: throttle counts and breaker state don't leak."""
    from django.conf import settings

    if settings.configured:  # not under `-p no:django`
        from django.core.cache import cache

        cache.clear()
    yield


@pytest.fixture
def clock() -> dict:
    """The demo marketplace's notion of now; a test moves it by setting clock["now"]."""
    from datetime import UTC, datetime

    return {"now": datetime(2026, 11, 2, 10, tzinfo=UTC)}


@pytest.fixture
def marketplace(clock, settings):
    """The demo marketplace on a loopback port of its own, let through the fetch guard."""
    from scraping.demo_marketplace import serve_in_thread

    server, base_url = serve_in_thread(port=0, clock=lambda: clock["now"])
    settings.FETCH_ALLOWED_HOSTS = [base_url.removeprefix("http://")]
    yield base_url
    server.shutdown()
    server.server_close()


@pytest.fixture
def transport(marketplace, tmp_path):
    """Direct fetching with politeness off: these tests are about what probes record and
    mean, not about pacing (the fetching tests cover that)."""
    from dataclasses import replace

    from scraping.fetching.file_state import FileState
    from scraping.transports import DirectTransport, base_policy

    return DirectTransport(
        policy=replace(base_policy(), politeness=False), state=FileState(tmp_path)
    )
