"""The client address behind the reverse proxy (SECURITY F3, A12): X-Forwarded-For is believed
only from a trusted proxy, and only its right-most entry the proxy did not add itself; the rate
limits then count the vendor, not the proxy."""

import pytest
from django.test import Client

from accounts.models import RecoveryRequest
from segurnum import ratelimit

PROXY = "10.0.0.10"


def recorded_address(client: Client, **headers) -> str:
    client.post("/connexion/mot-de-passe-oublie/", {"identifiant": "marie.curie"}, headers=headers)
    return RecoveryRequest.objects.order_by("-pk").values_list("client_ip", flat=True).first()


@pytest.mark.django_db
def test_the_proxy_passes_the_real_address(settings):
    settings.TRUSTED_PROXIES = [PROXY]
    client = Client(REMOTE_ADDR=PROXY)
    assert recorded_address(client, x_forwarded_for="203.0.113.5") == "203.0.113.5"
    # Whatever the client wrote itself in the header comes first and is ignored.
    assert recorded_address(client, x_forwarded_for="1.2.3.4, 203.0.113.6") == "203.0.113.6"


@pytest.mark.django_db
def test_a_chain_of_trusted_proxies_is_walked_from_the_right(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/24", "192.168.1.1"]
    client = Client(REMOTE_ADDR="10.0.0.3")
    assert recorded_address(client, x_forwarded_for="8.8.8.8, 203.0.113.7, 192.168.1.1") == "203.0.113.7"


@pytest.mark.django_db
def test_a_client_that_is_not_a_trusted_proxy_cannot_choose_its_address(settings):
    settings.TRUSTED_PROXIES = [PROXY]
    client = Client(REMOTE_ADDR="198.51.100.9")
    assert recorded_address(client, x_forwarded_for="203.0.113.5") == "198.51.100.9"


@pytest.mark.django_db
def test_without_trusted_proxies_the_header_is_ignored(settings):
    settings.TRUSTED_PROXIES = []
    client = Client(REMOTE_ADDR=PROXY)
    assert recorded_address(client, x_forwarded_for="203.0.113.5") == PROXY


@pytest.mark.django_db
def test_rate_limits_count_each_vendor_behind_the_proxy(settings):
    settings.TRUSTED_PROXIES = [PROXY]
    settings.CAPTCHA_REFRESH_RATE_LIMIT = 1
    client = Client(REMOTE_ADDR=PROXY)
    ajax = {"x_requested_with": "XMLHttpRequest"}
    assert client.get("/captcha/refresh/", headers={**ajax, "x_forwarded_for": "203.0.113.5"}).status_code == 200
    assert client.get("/captcha/refresh/", headers={**ajax, "x_forwarded_for": "203.0.113.5"}).status_code == 429
    # Another vendor behind the same proxy has its own allowance.
    assert client.get("/captcha/refresh/", headers={**ajax, "x_forwarded_for": "203.0.113.6"}).status_code == 200
    assert ratelimit.count("captcha-refresh", PROXY) == 0
