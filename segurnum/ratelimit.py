"""Counters per client address in the cache, for the abuse limits (SECURITY A12, F14).

The cache is Redis in production (CACHE_URL), shared by every gunicorn process and machine; the
embedded default keeps it in the process's memory. A window starts with the first hit and lasts
``window`` seconds. An IPv6 client counts per /64, the block one subscriber usually holds.

A cache that cannot be reached never turns a page into an error: the counter reads 0 and the
request goes through (logged). Refusing every vendor while Redis restarts would be worse than a
few minutes without limits.

On Redis, counting is one round trip whatever the number of counters (R-PERF-5): a script adds
to each counter and opens the window of a new one, atomically; reading several is one MGET.
Django's cache API would take three round trips per counter (``add``, then ``incr``, which checks
that the key exists first).
"""

import hashlib
import ipaddress
import logging
import weakref
from collections.abc import Iterable

from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache
from redis.commands.core import Script

logger = logging.getLogger(__name__)

HOUR = 3600


def subject_of(client_ip: str | None) -> str:
    """The unit a limit counts: the IPv4 address, or the IPv6 /64 network."""
    if not client_ip:
        return "inconnue"
    try:
        address = ipaddress.ip_address(client_ip)
    except ValueError:
        return client_ip
    if address.version == 6:
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


def _key(scope: str, client_ip: str | None) -> str:
    digest = hashlib.sha256(subject_of(client_ip).encode()).hexdigest()[:32]
    return f"ratelimit:{scope}:{digest}"


def count(scope: str, client_ip: str | None) -> int:
    """What was counted for this address in the current window."""
    return counts([scope], client_ip)[scope]


def counts(scopes: Iterable[str], client_ip: str | None) -> dict[str, int]:
    """What was counted for this address in each scope's current window (one read)."""
    keys = {scope: _key(scope, client_ip) for scope in scopes}
    try:
        values = cache.get_many(list(keys.values()))
    except Exception:
        logger.warning("Cache injoignable : limites « %s » non vérifiées", ", ".join(keys), exc_info=True)
        return dict.fromkeys(keys, 0)
    return {scope: int(values.get(key) or 0) for scope, key in keys.items()}


def exceeded(scope: str, client_ip: str | None, *, limit: int, amount: int = 0) -> bool:
    """True when this address has already used ``limit`` (or would go over it with ``amount``)."""
    return over(count(scope, client_ip), limit=limit, amount=amount)


def over(used: int, *, limit: int, amount: int = 0) -> bool:
    """``exceeded`` for a count already read (``counts``)."""
    return used + amount > limit if amount else used >= limit


def record(scope: str, client_ip: str | None, *, window: int = HOUR, amount: int = 1) -> int:
    """Count ``amount`` more for this address; returns the new total (0 when the cache is down)."""
    return record_many({scope: amount}, client_ip, window=window)[scope]


# Adds ARGV[i + 1] to KEYS[i]; a counter without expiry (just created) gets the window, ARGV[1].
# An amount given back (negative) to a counter whose window is over changes nothing: it would
# otherwise open the next window below zero, one request too lenient.
# Django's Redis cache stores an integer as a plain Redis integer, so cache.get() reads it back.
INCREMENT = """
local totals = {}
for i, key in ipairs(KEYS) do
  local amount = tonumber(ARGV[i + 1])
  if amount < 0 and redis.call('EXISTS', key) == 0 then
    totals[i] = 0
  else
    totals[i] = redis.call('INCRBY', key, amount)
    if redis.call('TTL', key) == -1 then redis.call('EXPIRE', key, ARGV[1]) end
  end
end
return totals
"""
# The script registered with each Redis client (EVALSHA, loaded again by redis-py if needed).
_scripts: "weakref.WeakKeyDictionary[object, Script]" = weakref.WeakKeyDictionary()


def record_many(amounts: dict[str, int], client_ip: str | None, *, window: int = HOUR) -> dict[str, int]:
    """Count each scope's amount for this address at once; returns the new totals (0 when the
    cache is down)."""
    keys = {scope: _key(scope, client_ip) for scope in amounts}
    try:
        backend = caches["default"]
        if isinstance(backend, RedisCache):
            return _record_on_redis(backend, keys, amounts, window)
        return {scope: _record_one(key, amounts[scope], window) for scope, key in keys.items()}
    except Exception:
        logger.warning("Cache injoignable : limites « %s » non comptées", ", ".join(keys), exc_info=True)
        return dict.fromkeys(keys, 0)


def _record_on_redis(backend: RedisCache, keys: dict[str, str], amounts: dict[str, int], window: int) -> dict[str, int]:
    # Django's Redis cache gives no public access to its client; segurnum.cache keeps one per pool.
    client = backend._cache.get_client(write=True)
    script = _scripts.get(client)
    if script is None:
        script = _scripts[client] = client.register_script(INCREMENT)
    totals = script(
        keys=[backend.make_and_validate_key(key) for key in keys.values()],
        args=[window, *(amounts[scope] for scope in keys)],
        client=client,
    )
    return {scope: int(total) for scope, total in zip(keys, totals, strict=True)}


def _record_one(key: str, amount: int, window: int) -> int:
    if amount < 0:
        try:  # given back: only to a window still open (see INCREMENT)
            return cache.incr(key, amount)
        except ValueError:
            return 0
    # add() opens the window on the first hit; incr() keeps its expiry.
    cache.add(key, 0, window)
    try:
        return cache.incr(key, amount)
    except ValueError:  # expired between add() and incr()
        cache.set(key, amount, window)
        return amount


def hit(scope: str, client_ip: str | None, *, limit: int, window: int = HOUR) -> bool:
    """Count one attempt; False once more than ``limit`` were made in the window."""
    return record(scope, client_ip, window=window) <= limit
