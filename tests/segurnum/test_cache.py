"""The shared cache: with CACHE_URL, separate processes (gunicorn workers, machines) see the same
values, so the contact form's rate limit holds across them; without it, each process has its
own memory cache (the embedded default)."""

import json
import secrets
import sys

import pytest

from tests.segurnum.conftest import production_env, run_here

REDIS_DB = 14

IN_A_PROCESS = """
import json, sys
import django
django.setup()
from django.conf import settings
from django.core.cache import cache
from public.services import contact_rate_exceeded, record_contact_attempt
action, key, ip = sys.argv[1:4]
if action == "write":
    cache.set(key, "valeur partagée", 60)
    for _ in range(5):
        record_contact_attempt(client_ip=ip)
print(json.dumps({
    "backend": settings.CACHES["default"]["BACKEND"],
    "value": cache.get(key),
    "limited": contact_rate_exceeded(client_ip=ip),
}))
"""


def in_a_process(env, action, key, ip):
    result = run_here(
        [sys.executable, "-c", IN_A_PROCESS, action, key, ip], {**env, "DJANGO_SETTINGS_MODULE": "segurnum.settings"}
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.services
def test_redis_cache_is_shared_between_processes(tmp_path, local_redis):
    import redis

    env = production_env(tmp_path, CACHE_URL=f"{local_redis}/{REDIS_DB}")
    token = secrets.token_hex(8)
    key, ip = f"test-cache-{token}", f"192.0.2.{secrets.randbelow(250) + 1}-{token}"
    try:
        first = in_a_process(env, "write", key, ip)
        assert first["backend"] == "segurnum.cache.RedisCache"
        assert first == {**first, "value": "valeur partagée", "limited": True}
        # Another process (another gunicorn worker) sees the value and the exhausted limit.
        second = in_a_process(env, "read", key, ip)
        assert second["value"] == "valeur partagée"
        assert second["limited"] is True
    finally:
        client = redis.Redis.from_url(f"{local_redis}/{REDIS_DB}")
        keys = client.keys(f"*{token}*")
        if keys:
            client.delete(*keys)


def test_without_cache_url_each_process_has_its_own_memory_cache(tmp_path):
    env = production_env(tmp_path)
    first = in_a_process(env, "write", "cle", "192.0.2.1")
    assert first["backend"] == "django.core.cache.backends.locmem.LocMemCache"
    assert first["limited"] is True
    second = in_a_process(env, "read", "cle", "192.0.2.1")
    assert second == {**second, "value": None, "limited": False}


@pytest.mark.services
def test_the_redis_cache_keeps_one_client_per_pool_and_it_works_from_threads(local_redis):
    """segurnum.cache: Django builds a Redis client per call; here each pool's client is kept."""
    from concurrent.futures import ThreadPoolExecutor

    from segurnum.cache import RedisCache

    cache = RedisCache(f"{local_redis}/{REDIS_DB}", {"KEY_PREFIX": f"test-{secrets.token_hex(4)}"})
    client = cache._cache.get_client(write=True)
    assert cache._cache.get_client(write=True) is client
    assert cache._cache.get_client() is cache._cache.get_client()

    def count(index):
        cache.set(f"cle-{index}", index, 30)
        cache.add("compteur", 0, 30)
        return cache.incr("compteur")

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(count, range(40)))
    assert sorted(results) == list(range(1, 41))
    assert cache.get_many([f"cle-{index}" for index in range(40)]) == {f"cle-{index}": index for index in range(40)}
    cache.delete_many([*(f"cle-{index}" for index in range(40)), "compteur"])
