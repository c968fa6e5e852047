"""SharedState in Redis: shared by every worker on every machine.

Each read-modify-write is one Lua script, which Redis runs atomically, and times come from the
Redis server's clock (``TIME``), so workers on machines whose clocks disagree still space their
requests correctly. Times are whole milliseconds: Lua numbers are doubles and print
microseconds since 1970 with too few digits.
"""

import math

import redis

from scraping.fetching.state import Admission

_NOW_MS = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
"""

_RESERVE = (
    _NOW_MS
    + """
local spacing = tonumber(ARGV[1])
local slot = now
for _, field in ipairs({'slot', 'sent'}) do
  local previous = tonumber(redis.call('HGET', KEYS[1], field))
  if previous and previous + spacing > slot then slot = previous + spacing end
end
redis.call('HSET', KEYS[1], 'slot', string.format('%d', slot))
redis.call('PEXPIRE', KEYS[1], slot - now + spacing + 60000)
return slot - now
"""
)

_CONFIRM = (
    _NOW_MS
    + """
local spacing = tonumber(ARGV[1])
local sent = tonumber(redis.call('HGET', KEYS[1], 'sent'))
if sent and sent + spacing > now then return sent + spacing - now end
redis.call('HSET', KEYS[1], 'sent', string.format('%d', now))
if redis.call('PTTL', KEYS[1]) < spacing + 60000 then
  redis.call('PEXPIRE', KEYS[1], spacing + 60000)
end
return 0
"""
)

_DELIVERED = (
    _NOW_MS
    + """
local sent = tonumber(redis.call('HGET', KEYS[1], 'sent'))
if sent and sent < now then redis.call('HSET', KEYS[1], 'sent', string.format('%d', now)) end
return 0
"""
)

_ADMIT = (
    _NOW_MS
    + """
local open_until = tonumber(redis.call('HGET', KEYS[1], 'open_until'))
if not open_until then return {0, 0} end
if now < open_until then return {2, open_until - now} end
redis.call('HSET', KEYS[1], 'open_until', string.format('%d', now + tonumber(ARGV[1])))
return {1, 0}
"""
)

_FAILURE = (
    _NOW_MS
    + """
local failures = redis.call('HINCRBY', KEYS[1], 'failures', 1)
if failures >= tonumber(ARGV[1]) then
  redis.call('HSET', KEYS[1], 'open_until', string.format('%d', now + tonumber(ARGV[2])))
end
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]) + 86400000)
"""
)

_STATES = {0: "closed", 1: "trial", 2: "open"}


class RedisState:
    def __init__(
        self, url: str, *, prefix: str = "watchprice:fetching:", client: redis.Redis | None = None
    ) -> None:
        self.redis = client or redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
        self.prefix = prefix
        self._reserve = self.redis.register_script(_RESERVE)
        self._confirm = self.redis.register_script(_CONFIRM)
        self._delivered = self.redis.register_script(_DELIVERED)
        self._admit = self.redis.register_script(_ADMIT)
        self._failure = self.redis.register_script(_FAILURE)

    def reserve(self, key: str, spacing: float) -> float:
        return self._reserve(keys=[self.prefix + key], args=[_ms(spacing)]) / 1000

    def confirm(self, key: str, spacing: float) -> float:
        return self._confirm(keys=[self.prefix + key], args=[_ms(spacing)]) / 1000

    def delivered(self, key: str) -> None:
        self._delivered(keys=[self.prefix + key])

    def cache_get(self, key: str) -> bytes | None:
        return self.redis.get(self.prefix + key)

    def cache_set(self, key: str, value: bytes, ttl: float) -> None:
        self.redis.set(self.prefix + key, value, px=max(_ms(ttl), 1))

    def claim(self, key: str, ttl: float) -> bool:
        return bool(self.redis.set(self.prefix + key, b"", nx=True, px=max(_ms(ttl), 1)))

    def release(self, key: str) -> None:
        self.redis.delete(self.prefix + key)

    def breaker_admit(self, key: str, trial_timeout: float) -> Admission:
        state, retry_in = self._admit(keys=[self.prefix + key], args=[_ms(trial_timeout)])
        return Admission(_STATES[state], retry_in=retry_in / 1000)

    def breaker_failure(self, key: str, threshold: int, cooldown: float) -> None:
        self._failure(keys=[self.prefix + key], args=[threshold, _ms(cooldown)])

    def breaker_success(self, key: str) -> None:
        self.redis.delete(self.prefix + key)


def _ms(seconds: float) -> int:
    # Rounded up: a slot a fraction of a millisecond early would break the spacing.
    return math.ceil(seconds * 1000)
