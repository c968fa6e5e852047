"""What fetch() raises on purpose. Anything else escaping it is a bug."""


class FetchError(Exception):
    """Base for every deliberate failure of a fetch; ``url`` is the URL being fetched when it
    happened (a redirect hop, not necessarily the URL the caller asked for)."""

    def __init__(self, message: str, *, url: str = "") -> None:
        super().__init__(message)
        self.url = url


class Refused(FetchError):
    """We declined: going on would break one of our own rules. Retrying will not help."""


class Blocked(Refused):
    """The destination is not one we may connect to (scheme, credentials, port or address)."""


class RobotsDisallowed(Refused):
    """The site's robots.txt disallows this URL for our crawler, or could not be read."""


class ResponseTooLarge(Refused):
    """The body is, or announced it would be, larger than the policy's cap."""


class UnacceptableContentType(Refused):
    """The response is not HTML or JSON."""


class TooManyRedirects(Refused):
    """The redirect chain is longer than the policy allows."""


class CircuitOpen(FetchError):
    """The host failed too often lately; no request was sent. ``retry_in`` is in seconds."""

    def __init__(self, message: str, *, url: str = "", retry_in: float = 0.0) -> None:
        super().__init__(message, url=url)
        self.retry_in = retry_in


class FetchFailed(FetchError):
    """No usable answer: a status we do not retry, retries used up, or a network error.

    ``status`` is the last HTTP status seen (None when nothing answered), ``attempts`` the number
    of requests sent, ``retry_after`` the server's Retry-After in seconds when it gave one.
    """

    def __init__(
        self,
        message: str,
        *,
        url: str = "",
        status: int | None = None,
        attempts: int = 0,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, url=url)
        self.status = status
        self.attempts = attempts
        self.retry_after = retry_after


class Unresolvable(FetchFailed):
    """The host name did not resolve to any address."""
