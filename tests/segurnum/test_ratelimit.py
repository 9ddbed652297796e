"""The counters behind the abuse limits (segurnum.ratelimit): per address, IPv6 per /64, and a
cache that is down lets the vendor through instead of failing the page."""

import pytest
from django.test import Client

from segurnum import ratelimit
from tests.enrolment.wizard import Wizard, load_registries, step_url
from tests.segurnum.conftest import free_port


def test_addresses_are_counted_separately():
    assert ratelimit.hit("essai", "192.0.2.1", limit=2)
    assert ratelimit.hit("essai", "192.0.2.1", limit=2)
    assert not ratelimit.hit("essai", "192.0.2.1", limit=2)
    assert ratelimit.hit("essai", "192.0.2.2", limit=2)
    assert ratelimit.exceeded("essai", "192.0.2.1", limit=2)
    assert not ratelimit.exceeded("autre", "192.0.2.1", limit=2)


def test_an_ipv6_subscriber_counts_as_one_whatever_address_of_its_64_it_uses():
    ratelimit.record("essai", "2001:db8:1:2::1")
    ratelimit.record("essai", "2001:db8:1:2:ffff::9")
    assert ratelimit.count("essai", "2001:db8:1:2:abcd::1") == 2
    assert ratelimit.count("essai", "2001:db8:1:3::1") == 0
    # An IPv4 client seen through an IPv6 socket is the IPv4 address.
    ratelimit.record("essai", "::ffff:192.0.2.9")
    assert ratelimit.count("essai", "192.0.2.9") == 1


def test_amounts_for_byte_quotas():
    ratelimit.record("octets", "192.0.2.1", amount=700)
    assert not ratelimit.exceeded("octets", "192.0.2.1", limit=1000, amount=300)
    assert ratelimit.exceeded("octets", "192.0.2.1", limit=1000, amount=301)


def test_an_amount_given_back_after_its_window_is_over_changes_nothing():
    """A request counted, then given back once its hour is over (a slow upload refused): the next
    hour starts from zero, not from minus one."""
    from django.core.cache import cache

    assert ratelimit.record("essai", "192.0.2.5") == 1
    cache.delete(ratelimit._key("essai", "192.0.2.5"))  # the window is over
    assert ratelimit.record("essai", "192.0.2.5", amount=-1) == 0
    assert ratelimit.count("essai", "192.0.2.5") == 0
    assert ratelimit.hit("essai", "192.0.2.5", limit=1)
    assert not ratelimit.hit("essai", "192.0.2.5", limit=1)
    # Within its window, an amount is given back as before.
    assert ratelimit.record("essai", "192.0.2.5", amount=-1) == 1


@pytest.fixture
def cache_down(settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "segurnum.cache.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{free_port()}/0",
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
    # As in production with CACHE_URL: sessions are read from that cache too (segurnum.sessions).
    settings.SESSION_CACHE_ALIAS = "default"


def test_a_cache_that_is_down_counts_nothing_and_raises_nothing(cache_down, caplog):
    assert ratelimit.record("essai", "192.0.2.1") == 0
    assert ratelimit.hit("essai", "192.0.2.1", limit=0) is True
    assert ratelimit.exceeded("essai", "192.0.2.1", limit=1) is False
    assert "Cache injoignable" in caplog.text


@pytest.mark.django_db
def test_the_wizard_keeps_files_while_the_cache_is_down(cache_down):
    load_registries()
    response = Wizard(Client()).referencing()
    assert response.redirect_chain[-1][0] == step_url("applicant")


@pytest.fixture
def redis_cache(settings, local_redis):
    """The production shape: the counters in Redis (CACHE_URL), database 14 emptied after."""
    import redis

    settings.CACHES = {"default": {"BACKEND": "segurnum.cache.RedisCache", "LOCATION": f"{local_redis}/14"}}
    client = redis.Redis.from_url(f"{local_redis}/14")
    yield client
    keys = client.keys("*ratelimit:*")
    if keys:
        client.delete(*keys)


def round_trips(monkeypatch) -> list[str]:
    """The commands sent to Redis from now on."""
    from redis import Redis

    sent, real = [], Redis.execute_command

    def counted(self, *args, **options):
        sent.append(str(args[0]))
        return real(self, *args, **options)

    monkeypatch.setattr(Redis, "execute_command", counted)
    return sent


@pytest.mark.services
def test_on_redis_counting_several_counters_is_one_round_trip(redis_cache, monkeypatch):
    address = "198.51.100.7"
    ratelimit.record("essai", address, window=60)  # the script is registered with the client
    sent = round_trips(monkeypatch)
    assert ratelimit.record_many({"brouillons": 1, "octets": 700}, address, window=60) == {
        "brouillons": 1,
        "octets": 700,
    }
    assert ratelimit.record_many({"brouillons": 1, "octets": 300}, address, window=60) == {
        "brouillons": 2,
        "octets": 1000,
    }
    assert ratelimit.counts(["brouillons", "octets", "autre"], address) == {"brouillons": 2, "octets": 1000, "autre": 0}
    assert sent == ["EVALSHA", "EVALSHA", "MGET"]
    # Read back through Django's cache API as well, as the other limits do.
    assert ratelimit.count("octets", address) == 1000
    assert ratelimit.exceeded("octets", address, limit=1000)
    assert not ratelimit.exceeded("octets", "198.51.100.8", limit=1000)


@pytest.mark.services
def test_on_redis_a_window_opens_with_the_first_hit_and_is_not_pushed_back(redis_cache):
    from django.core.cache import cache

    address = "198.51.100.9"
    key = cache.make_and_validate_key(ratelimit._key("essai", address))
    assert ratelimit.record("essai", address, window=60) == 1
    redis_cache.expire(key, 30)  # half the window gone
    assert ratelimit.hit("essai", address, limit=2, window=60)
    assert 0 < redis_cache.ttl(key) <= 30  # the second hit keeps the first one's window
    assert not ratelimit.hit("essai", address, limit=2, window=60)
    redis_cache.delete(key)  # the window is over
    assert ratelimit.record("essai", address, window=60) == 1
    assert 30 < redis_cache.ttl(key) <= 60


@pytest.mark.services
def test_on_redis_an_amount_given_back_after_its_window_is_over_changes_nothing(redis_cache):
    from django.core.cache import cache

    address = "198.51.100.10"
    key = cache.make_and_validate_key(ratelimit._key("essai", address))
    assert ratelimit.record_many({"essai": 1, "octets": 500}, address, window=60) == {"essai": 1, "octets": 500}
    redis_cache.delete(key)  # this counter's window is over, not the other's
    assert ratelimit.record_many({"essai": -1, "octets": -500}, address, window=60) == {"essai": 0, "octets": 0}
    assert not redis_cache.exists(key)
    assert ratelimit.record("essai", address, window=60) == 1
    assert 30 < redis_cache.ttl(key) <= 60
