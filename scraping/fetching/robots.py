"""robots.txt verdicts as they are cached in shared state (RFC 9309)."""

import json
import time
from dataclasses import dataclass
from functools import cached_property
from typing import Literal

from protego import Protego

# RFC 9309 asks crawlers to parse at least 500 KiB; anything after the cap is ignored.
MAX_ROBOTS_BYTES = 512 * 1024


@dataclass(frozen=True)
class RobotsRules:
    verdict: Literal["rules", "allow_all", "disallow_all"]
    expires: float
    """Wall-clock time after which the site's robots.txt must be read again."""
    body: str = ""
    reason: str = ""

    @classmethod
    def parse(cls, body: bytes, *, ttl: float) -> "RobotsRules":
        text = body[:MAX_ROBOTS_BYTES].decode("utf-8", errors="replace")
        return cls("rules", time.time() + ttl, body=text)

    @classmethod
    def allow_all(cls, reason: str, *, ttl: float) -> "RobotsRules":
        return cls("allow_all", time.time() + ttl, reason=reason)

    @classmethod
    def disallow_all(cls, reason: str, *, ttl: float) -> "RobotsRules":
        return cls("disallow_all", time.time() + ttl, reason=reason)

    @property
    def fresh(self) -> bool:
        return time.time() < self.expires

    @property
    def ttl(self) -> float:
        return max(self.expires - time.time(), 0.001)

    @cached_property
    def _parser(self) -> Protego:
        return Protego.parse(self.body)

    def allows(self, url: str, agent: str) -> bool:
        if self.verdict != "rules":
            return self.verdict == "allow_all"
        return self._parser.can_fetch(url, agent)

    def crawl_delay(self, agent: str) -> float | None:
        """Seconds between requests asked for by Crawl-delay or Request-rate, if any."""
        if self.verdict != "rules":
            return None
        delays = [float(self._parser.crawl_delay(agent) or 0)]
        rate = self._parser.request_rate(agent)
        if rate and rate.requests:
            delays.append(rate.seconds / rate.requests)
        return max(delays) or None

    def encode(self) -> bytes:
        fields = {"verdict": self.verdict, "expires": self.expires, "body": self.body}
        return json.dumps({**fields, "reason": self.reason}).encode()

    @classmethod
    def decode(cls, blob: bytes) -> "RobotsRules":
        return cls(**json.loads(blob))
