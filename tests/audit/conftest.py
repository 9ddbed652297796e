import pytest

from tests.funding.factories import filed_request, open_window, validated_vendor


@pytest.fixture
def funding_request(db):
    """A funding request filed through the services, as the vendor's pages do."""
    open_window()
    return filed_request(validated_vendor())
