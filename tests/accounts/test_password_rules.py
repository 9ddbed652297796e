"""Each password rule, accepted and rejected examples (R-ACC-2, SECURITY A1)."""

import re

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError

from tests.factories import UserFactory


@pytest.fixture
def user(db):
    return UserFactory.build(username="test.ecomplementaire", first_name="Test", last_name="Complémentaire")


def messages_for(password, user):
    try:
        validate_password(password, user)
    except ValidationError as error:
        return error.messages
    return []


@pytest.mark.parametrize(
    "password",
    [
        "Abcdefg1.",
        "zq8;Wmlp",  # 8 characters exactly
        "mon 1er mot-de-passe",  # a space counts, the hyphen is the special character
        "Tr0ub4dor&3",
        "x" * 61 + "1?A",  # 64 characters, accepted whole
        "Pa55~w0rdXyz",
        "k7`]Jqpz",  # any ASCII punctuation is special
    ],
)
def test_accepted(password, user):
    assert messages_for(password, user) == []


@pytest.mark.parametrize(
    ("password", "expected"),
    [
        ("Abcde1.", "au minimum 8 caractères"),  # 7 characters
        ("Abcdefgh.", "au moins 1 chiffre"),
        ("Abcdefgh1", "au moins 1 caractère spécial (exemples : .,;?!:%#)"),
        ("Abcdéfg1.", "caractères accentués"),
        ("Ab€defg1.", "caractères accentués"),
        ("test.ecomplementaire", "différent de l'identifiant"),
        ("X1!test.ecomplementaire", "différent de l'identifiant"),
        ("TEST.ECOMPLEMENTAIRE9!", "différent de l'identifiant"),
        ("password1!", "trop courant"),
        ("x" * 126 + "1?A", "ne doit pas dépasser 128 caractères"),
    ],
)
def test_rejected_with_the_rule_named(password, expected, user):
    assert any(expected in message for message in messages_for(password, user)), messages_for(password, user)


def test_every_broken_rule_is_named_at_once(user):
    messages = messages_for("é", user)
    assert any("au minimum 8 caractères" in m for m in messages)
    assert any("au moins 1 chiffre" in m for m in messages)
    assert any("caractère spécial" in m for m in messages)
    assert any("caractères accentués" in m for m in messages)


def test_the_portal_rules_reach_the_page(client, new_vendor):
    from tests.accounts.conftest import sign_in

    sign_in(client, "eishiro.oda", new_vendor.temporary_password)
    page = client.get("/espace/changement-mot-de-passe/").content.decode()
    assert "comporter 8 caractères minimum dont 1 chiffre et" in page
    assert "Les caractères accentués ne sont pas autorisés." in page
    # Each rule is stated once: the guide's paragraph, then only the rules it does not state.
    assert "Au moins 1 caractère spécial" not in page
    assert "Différent de l&#x27;identifiant, et sans le contenir." not in page
    assert "128 caractères au plus." in page
    assert "ne peut pas être un mot de passe couramment utilisé" in page
    # The box describes the new password's field (RGAA 11.10).
    assert re.search(r'<input[^>]+name="new_password1"[^>]+aria-describedby="password-rules"', page)
