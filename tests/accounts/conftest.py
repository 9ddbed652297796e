import pytest

from accounts import services
from tests.factories import UserFactory

STRONG = "Abcdefg1."


@pytest.fixture
def new_vendor(db):
    """A vendor just validated: temporary password mailed, first connection not done."""
    user = UserFactory(
        username="eishiro.oda",
        first_name="Eishiro",
        last_name="Oda",
        email="eishiro.oda@editeur.example.fr",
        must_change_password=True,
        secret_question="",
        secret_answer="",
    )
    user.temporary_password = services.set_temporary_password(user=user)
    return user


@pytest.fixture
def vendor(db):
    """A vendor whose first connection is done (password chosen, secret question set)."""
    user = UserFactory(username="marie.curie", first_name="Marie", last_name="Curie", email="marie@editeur.example.fr")
    services.set_secret_question(user=user, question="Nom de ma première école ?", answer="Jules Ferry")
    user.raw_password = "Mot2passe!Solide"
    return user


def sign_in(client, username: str, password: str):
    return client.post("/connexion/", {"username": username, "password": password})
