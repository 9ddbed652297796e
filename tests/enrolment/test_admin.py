"""The ANS referencing registry is editable by agents in the admin."""

import pytest
from django.urls import reverse

from enrolment.models import ReferencedSoftware
from tests.enrolment.wizard import load_registries

pytestmark = pytest.mark.django_db


def test_agent_edits_the_referencing_registry(admin_client):
    load_registries()
    changelist = admin_client.get(reverse("admin:enrolment_referencedsoftware_changelist"), {"q": "ARCAD"})
    assert changelist.status_code == 200
    assert "tndSAS0031" in changelist.content.decode()
    software = ReferencedSoftware.objects.get(referencing_number="tndSAS0031")
    response = admin_client.post(
        reverse("admin:enrolment_referencedsoftware_change", args=[software.pk]),
        {
            "referencing_number": "tndSAS0031",
            "software_name": "ARCAD SAAD",
            "version": "18",
            "dsr_label": software.dsr_label,
            "editor_siret": software.editor_siret,
            "editor_name": software.editor_name,
            "active": "on",
        },
    )
    assert response.status_code == 302
    software.refresh_from_db()
    assert software.version == "18"


def test_anonymous_visitor_cannot_reach_the_registry_admin(client):
    response = client.get(reverse("admin:enrolment_referencedsoftware_changelist"))
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
