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
