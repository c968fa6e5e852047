"""Fetching web pages politely and safely: plain Python, configured by a FetchPolicy.

    from scraping.fetching import FetchClient, FetchPolicy, fetch, open_state

    state = open_state(redis_url=settings.REDIS_URL, directory=settings.VAR_DIR / "fetching")
    result = fetch(url, policy=FetchPolicy(requests_per_minute=12), state=state)

No Django here: the scraping app reads settings and retailer rows into a FetchPolicy.
"""

from scraping.fetching.batch import fetch_many
from scraping.fetching.destination import (
    Destination,
    address_problem,
    check_destination,
    parse_allow_list,
    static_resolver,
)
from scraping.fetching.errors import (
    Blocked,
    CircuitOpen,
    FetchError,
    FetchFailed,
    Refused,
    ResponseTooLarge,
    RobotsDisallowed,
    TooManyRedirects,
    UnacceptableContentType,
    Unresolvable,
)
from scraping.fetching.fetcher import FetchClient, FetchResult, fetch, polite_turn, robots_allow
from scraping.fetching.policy import DEFAULT_USER_AGENT, FetchPolicy
from scraping.fetching.retrying import parse_retry_after
from scraping.fetching.state import Admission, SharedState, open_state

__all__ = [
    "DEFAULT_USER_AGENT",
    "Admission",
    "Blocked",
    "CircuitOpen",
    "Destination",
    "FetchClient",
    "FetchError",
    "FetchFailed",
    "FetchPolicy",
    "FetchResult",
    "Refused",
    "ResponseTooLarge",
    "RobotsDisallowed",
    "SharedState",
    "TooManyRedirects",
    "UnacceptableContentType",
    "Unresolvable",
    "address_problem",
    "check_destination",
    "fetch",
    "fetch_many",
    "open_state",
    "parse_allow_list",
    "parse_retry_after",
    "polite_turn",
    "robots_allow",
    "static_resolver",
]
