import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def _empty_cache():
    """The contact form's rate limit lives in the cache: every test starts from zero."""
    cache.clear()
    yield
    cache.clear()
