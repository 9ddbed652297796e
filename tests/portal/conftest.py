import pytest

from tests.factories import UserFactory


@pytest.fixture
def vendor(db):
    return UserFactory(username="eishiro.oda", first_name="Eishiro", last_name="Oda", email="eishiro.oda@asm.example")


@pytest.fixture
def vendor_client(client, vendor):
    client.force_login(vendor)
    return client
