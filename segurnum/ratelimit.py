"""Counters per client address in the cache, for the abuse limits (SECURITY A12, F14).

The cache is Redis in production (CACHE_URL), shared by every gunicorn process and machine; the
embedded default keeps it in the process's memory. A window starts with the first hit and lasts
``window`` seconds. An IPv6 client counts per /64, the block one subscriber usually holds.

A cache that cannot be reached never turns a page into an error: the counter reads 0 and the
request goes through (logged). Refusing every vendor while Redis restarts would be worse than a
few minutes without limits.
"""

import hashlib
import ipaddress
import logging

from django.core.cache import cache

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
    try:
        return int(cache.get(_key(scope, client_ip)) or 0)
    except Exception:
        logger.warning("Cache injoignable : limite « %s » non vérifiée", scope, exc_info=True)
        return 0


def exceeded(scope: str, client_ip: str | None, *, limit: int, amount: int = 0) -> bool:
    """True when this address has already used ``limit`` (or would go over it with ``amount``)."""
    used = count(scope, client_ip)
    return used + amount > limit if amount else used >= limit


def record(scope: str, client_ip: str | None, *, window: int = HOUR, amount: int = 1) -> int:
    """Count ``amount`` more for this address; returns the new total (0 when the cache is down)."""
    key = _key(scope, client_ip)
    try:
        # add() opens the window on the first hit; incr() keeps its expiry.
        cache.add(key, 0, window)
        try:
            return cache.incr(key, amount)
        except ValueError:  # expired between add() and incr()
            cache.set(key, amount, window)
            return amount
    except Exception:
        logger.warning("Cache injoignable : limite « %s » non comptée", scope, exc_info=True)
        return 0


def hit(scope: str, client_ip: str | None, *, limit: int, window: int = HOUR) -> bool:
    """Count one attempt; False once more than ``limit`` were made in the window."""
    return record(scope, client_ip, window=window) <= limit
