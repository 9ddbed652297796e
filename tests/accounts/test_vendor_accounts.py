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


def group_permissions(name: str) -> set[str]:
    return {f"{p.content_type.app_label}.{p.codename}" for p in Group.objects.get(name=name).permissions.all()}


# The policy, written here on its own (not read from accounts.groups): support finds a request
# and says where it stands, answers the contact form and unlocks an account (R-BO-3); it never
# sees a request's detail page (the whole IBAN), a document, nor decides (SECURITY P3).
SUPPORT_POLICY = {
    "enrolment.lookup_enrolmentrequest",
    "funding.lookup_fundingrequest",
    "public.view_faqentry",
    "public.view_supportrequest",
    "public.change_supportrequest",
    "accounts.view_user",
    "accounts.unlock_user",
}
# Agents instruct and decide (R-BO-1, R-BO-2, R-FIN-7)…
AGENT_MUST = {
    "enrolment.view_enrolmentrequest",
    "enrolment.validate_enrolmentrequest",
    "enrolment.reject_enrolmentrequest",
    "enrolment.download_enrolmentdocument",
    "notifications.resend_outboundemail",
    "funding.decide_fundingrequest",
    "funding.download_fundingdocument",
}
# …but nobody edits or deletes a request, its documents, its history, a mail or an account by
# hand: every change goes through a decision button and its service.
NOBODY = {
    "enrolment.add_enrolmentrequest",
    "enrolment.change_enrolmentrequest",
    "enrolment.delete_enrolmentrequest",
    "enrolment.change_enrolmentdocument",
    "enrolment.delete_enrolmentdocument",
    "enrolment.change_statuschange",
    "enrolment.delete_statuschange",
    "notifications.change_outboundemail",
    "notifications.delete_outboundemail",
    "accounts.add_user",
    "accounts.change_user",
    "accounts.delete_user",
    "auth.change_group",
    "auth.change_permission",
}


def test_the_back_office_groups_follow_the_permission_policy():
    assert group_permissions(SUPPORT) == SUPPORT_POLICY
    assert group_permissions(AGENT) >= AGENT_MUST
    assert not NOBODY & (group_permissions(AGENT) | group_permissions(SUPPORT))


def test_setup_groups_restores_exactly_the_listed_permissions():
    support = Group.objects.get(name=SUPPORT)
    support.permissions.add(Permission.objects.get(codename="validate_enrolmentrequest"))
    call_command("setup_groups", stdout=io.StringIO())
    for name in (AGENT, SUPPORT):
        assert group_permissions(name) == set(GROUP_PERMISSIONS[name])
    assert group_permissions(SUPPORT) == SUPPORT_POLICY


def test_no_password_nor_iban_in_the_logs(caplog, mailoutbox, django_capture_on_commit_callbacks):
    caplog.set_level(logging.DEBUG)
    enrolment = EnrolmentRequestFactory()
    with django_capture_on_commit_callbacks(execute=True):
        validate_enrolment(enrolment=enrolment, by=agent())
    password = re.search(r"Mot de passe provisoire : (\S+)", mailoutbox[2].body).group(1)
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert f"Demande {enrolment.number} validée" in logged
    assert password not in logged and enrolment.iban not in logged
