"""robots.txt is read once per site, cached in the shared state, and obeyed (RFC 9309)."""

import time

import pytest

from scraping.fetching import RobotsDisallowed, fetch
from tests.scraping.conftest import Reply, html, policy_for, redirect


def robots_txt(text: str, status: int = 200) -> Reply:
    return Reply(status=status, body=text.encode(), headers={"Content-Type": "text/plain"})


def test_it_refuses_a_disallowed_url_without_requesting_it(shop, file_state):
    shop.route("/robots.txt", robots_txt("User-agent: *\nDisallow: /checkout\n"))

    with pytest.raises(RobotsDisallowed, match=r"robots\.txt disallows"):
        fetch(shop.url("/checkout/cart"), policy=policy_for(shop), state=file_state)

    assert [hit.path for hit in shop.hits] == ["/robots.txt"]


def test_it_fetches_an_allowed_url(shop, file_state):
    shop.route("/robots.txt", robots_txt("User-agent: *\nDisallow: /checkout\n"))
    shop.route("/watch", html())

    assert fetch(shop.url("/watch"), policy=policy_for(shop), state=file_state).status == 200


def test_it_obeys_the_group_for_its_own_agent_whatever_user_agent_it_sends(shop, file_state):
    shop.route("/robots.txt", robots_txt("User-agent: WatchPriceBot\nDisallow: /\n"))
    policy = policy_for(shop, user_agents=("Mozilla/5.0 (X11; Linux x86_64)",))

    with pytest.raises(RobotsDisallowed):
        fetch(shop.url("/watch"), policy=policy, state=file_state)


def test_it_reads_robots_txt_once_and_caches_it(shop, file_state, fetch_client):
    shop.route("/robots.txt", robots_txt("User-agent: *\nAllow: /\n"))
    shop.route("/watch", html())

    for _ in range(3):
        fetch(shop.url("/watch"), policy=policy_for(shop), state=file_state, client=fetch_client)

    assert len(shop.hits_for("/robots.txt")) == 1


def test_another_process_uses_the_cached_robots_txt_from_the_shared_state(shop, file_state):
    shop.route("/robots.txt", robots_txt("User-agent: *\nAllow: /\n"))
    shop.route("/watch", html())

    # A fresh client per fetch has no local copy: the verdict comes from the state file.
    for _ in range(2):
        fetch(shop.url("/watch"), policy=policy_for(shop), state=file_state)

    assert len(shop.hits_for("/robots.txt")) == 1


def test_it_reads_robots_txt_again_once_the_cache_expires(shop, file_state, fetch_client):
    shop.route("/robots.txt", robots_txt("User-agent: *\nAllow: /\n"))
    shop.route("/watch", html())
    policy = policy_for(shop, robots_ttl=0.2)

    fetch(shop.url("/watch"), policy=policy, state=file_state, client=fetch_client)
    time.sleep(0.3)
    fetch(shop.url("/watch"), policy=policy, state=file_state, client=fetch_client)

    assert len(shop.hits_for("/robots.txt")) == 2


@pytest.mark.parametrize("status", [404, 410, 401, 403])
def test_a_missing_robots_txt_allows_everything(shop, file_state, status):
    shop.route("/robots.txt", robots_txt("nope", status=status))
    shop.route("/watch", html())

    assert fetch(shop.url("/watch"), policy=policy_for(shop), state=file_state).status == 200


@pytest.mark.parametrize("status", [500, 503, 429])
def test_a_failing_robots_txt_disallows_everything_for_a_while(shop, file_state, status):
    shop.route("/robots.txt", robots_txt("down", status=status))
    shop.route("/watch", html())

    for _ in range(2):
        with pytest.raises(RobotsDisallowed, match=rf"robots\.txt answered {status}"):
            fetch(shop.url("/watch"), policy=policy_for(shop), state=file_state)

    assert len(shop.hits_for("/robots.txt")) == 1
    assert shop.hits_for("/watch") == []


def test_a_failing_robots_txt_is_asked_again_after_the_error_ttl(shop, file_state):
    shop.route("/robots.txt", robots_txt("down", status=503), robots_txt("User-agent: *\n"))
    shop.route("/watch", html())
    policy = policy_for(shop, robots_error_ttl=0.2)

    with pytest.raises(RobotsDisallowed):
        fetch(shop.url("/watch"), policy=policy, state=file_state)
    time.sleep(0.3)

    assert fetch(shop.url("/watch"), policy=policy, state=file_state).status == 200


def test_an_unreachable_robots_txt_disallows_everything(file_state, unused_loopback_port):
    policy = policy_for(allow=frozenset({("127.0.0.1", unused_loopback_port)}))

    with pytest.raises(RobotsDisallowed, match="unreachable"):
        fetch(f"http://127.0.0.1:{unused_loopback_port}/watch", policy=policy, state=file_state)


def test_it_follows_a_redirected_robots_txt(shop, file_state):
    shop.route("/robots.txt", redirect("/static/robots.txt", status=301))
    shop.route("/static/robots.txt", robots_txt("User-agent: *\nDisallow: /private\n"))

    with pytest.raises(RobotsDisallowed):
        fetch(shop.url("/private/x"), policy=policy_for(shop), state=file_state)


def test_robots_txt_can_be_ignored(shop, file_state):
    shop.route("/robots.txt", robots_txt("User-agent: *\nDisallow: /\n"))
    shop.route("/watch", html())

    result = fetch(shop.url("/watch"), policy=policy_for(shop, obey_robots=False), state=file_state)

    assert result.status == 200
    assert shop.hits_for("/robots.txt") == []
