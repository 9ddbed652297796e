"""Vendor accounts created at validation, and the back-office groups (R-BO-2, SECURITY A7, P3)."""

import io
import logging
import re

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.management import call_command

from accounts.groups import AGENT, GROUP_PERMISSIONS, SUPPORT
from accounts.services import generate_temporary_password, identifiant_base
from enrolment.services import validate_enrolment
from tests.factories import EnrolmentRequestFactory, agent

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("first", "last", "expected"),
    [
        ("Eishiro", "Oda", "eishiro.oda"),
        ("Élise", "Dupont-Gaëlle", "elise.dupont-gaelle"),
        ("Anne Marie", "D'Arc", "anne-marie.d-arc"),
        ("Łukasz", "Œuvray", "lukasz.oeuvray"),
        ("", "", "fournisseur"),
    ],
)
def test_identifiant_is_readable_ascii(first, last, expected):
    assert identifiant_base(first, last) == expected


def test_temporary_passwords_are_random_and_follow_the_rules():
    passwords = {generate_temporary_password() for _ in range(200)}
    assert len(passwords) == 200
    for password in passwords:
        assert len(password) == 12 and password.isascii()
        assert all(re.search(pattern, password) for pattern in (r"[a-z]", r"[A-Z]", r"\d", r"[.,;?!:%#]"))
        assert not set(password) & set("0O1lI")  # read from a mail, typed by hand


def test_setup_groups_restores_exactly_the_listed_permissions():
    support = Group.objects.get(name=SUPPORT)
    support.permissions.add(Permission.objects.get(codename="validate_enrolmentrequest"))
    call_command("setup_groups", stdout=io.StringIO())
    for name in (AGENT, SUPPORT):
        codenames = {f"{p.content_type.app_label}.{p.codename}" for p in Group.objects.get(name=name).permissions.all()}
        assert codenames == set(GROUP_PERMISSIONS[name])


def test_no_password_nor_iban_in_the_logs(caplog, mailoutbox, django_capture_on_commit_callbacks):
    caplog.set_level(logging.DEBUG)
    enrolment = EnrolmentRequestFactory()
    with django_capture_on_commit_callbacks(execute=True):
        validate_enrolment(enrolment=enrolment, by=agent())
    password = re.search(r"Mot de passe provisoire : (\S+)", mailoutbox[2].body).group(1)
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert f"Demande {enrolment.number} validée" in logged
    assert password not in logged and enrolment.iban not in logged
