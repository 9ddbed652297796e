"""The cache backend for Redis (``CACHE_URL``): Django's, keeping one Redis client per pool.

Django's ``RedisCacheClient`` builds a new ``redis.Redis`` object for every call to the cache,
and building one fills its table of response callbacks (a few hundred entries): about as much CPU
as the call itself. Sessions, rate limits and look-ups call the cache several times per page
(R-PERF-5), so the client of each connection pool is built once and kept. A ``redis.Redis``
object is safe to share between threads (its pool hands each call its own connection) and the
pool itself notices a fork (gunicorn's workers) and opens new connections there.
"""

from django.core.cache.backends import redis


class KeptClientRedisCacheClient(redis.RedisCacheClient):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        index = self._get_connection_pool_index(write)
        client = self._clients.get(index)
        if client is None:
            client = self._clients[index] = self._client(connection_pool=self._get_connection_pool(write))
        return client


class RedisCache(redis.RedisCache):
    def __init__(self, server, params) -> None:
        super().__init__(server, params)
        self._class = KeptClientRedisCacheClient
