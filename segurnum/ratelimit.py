"""A fixed-window counter per key in the shared cache (Redis in production): at most ``limit``
hits per ``window`` seconds. The first hit starts the window; add() then incr() keep its expiry."""

from django.core.cache import cache


def exceeded(key: str, *, limit: int) -> bool:
    return cache.get(key, 0) >= limit


def hit(key: str, *, window: int) -> None:
    cache.add(key, 0, window)
    try:
        cache.incr(key)
    except ValueError:  # expired between add() and incr()
        cache.set(key, 1, window)
