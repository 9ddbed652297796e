"""SQL statements per HTTP request of the guide's enrolment (R-PERF-3), as constant as the
database grows: the same walk with 1 and with 60 requests already stored counts the same.

Every request stays within 10 statements, « Terminer » included: 8 of them store the request
(tests/enrolment/test_services.py: the software, the ENR counter, the request, its documents, its
first status, its version M0, its acknowledgement, its flags' refresh), plus the captcha's one
DELETE (the code used up) and the session written; the session is read from the cache
(segurnum.sessions). Not among them: a look-up of the submission key (only when the final POST did
not store the request itself), the captcha's purge of expired codes (periodic housekeeping), a
lock (the captcha's row and the unique submission key serialise a double click).
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from enrolment.models import EnrolmentRequest
from tests import files
from tests.enrolment.wizard import GUIDE_NUMBER, GUIDE_SIRET, MANAGEMENT, Wizard, load_registries, prefixed, step_url
from tests.factories import EnrolmentRequestFactory

pytestmark = pytest.mark.django_db

MAX_PER_REQUEST = 10
# The test's own transaction turns every atomic block into a savepoint: not counted here (the
# benchmark counts the statements of production, savepoints included).
TRANSACTION_CONTROL = ("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT")


def counted_walk(client) -> dict[str, int]:
    """The guide's enrolment, one request at a time (no redirect followed): statements of each."""
    wizard = Wizard(client)
    counts: dict[str, int] = {}

    def count(label, send):
        with CaptureQueriesContext(connection) as queries:
            response = send()
        assert response.status_code in (200, 302), (label, response.status_code)
        counts[label] = sum(not query["sql"].startswith(TRANSACTION_CONTROL) for query in queries.captured_queries)
        return response

    def post(step, data, **extra):
        return client.post(step_url(step), {MANAGEMENT: step, **prefixed(step, data), **extra})

    count("Étape 1 GET", lambda: wizard.get("referencing", follow=False))
    count(
        "« Rechercher »", lambda: post("referencing", {"referencing_number": GUIDE_NUMBER}, action="search_referencing")
    )
    count("Étape 1 GET après recherche", lambda: wizard.get("referencing", follow=False))
    certificate = files.pdf("certificat ANS.pdf")
    count("Étape 1 POST", lambda: post("referencing", {"referencing_number": GUIDE_NUMBER, "certificate": certificate}))
    count("Étape 2 GET", lambda: wizard.get("applicant", follow=False))
    wizard.search_siret(GUIDE_SIRET)
    count("Étape 2 GET, formulaire complet", lambda: wizard.get("applicant", follow=False))
    count("Étape 2 POST", lambda: post("applicant", wizard.applicant_data()))
    count("Étape 3 GET", lambda: wizard.get("bank", follow=False))
    count("Étape 3 POST", lambda: post("bank", wizard.bank_data()))
    count("Étape 4 GET", lambda: wizard.get("vat", follow=False))
    proof = files.pdf("attestation.pdf")
    count("Étape 4 POST", lambda: post("vat", {"vat_rate": "ht_0", "vat_exemption_proof": proof}))
    count("Étape 5 GET", lambda: wizard.get("confirmation", follow=False))
    data, extra = wizard.confirmation_data()
    done = count("« Terminer »", lambda: wizard.post("confirmation", data, extra=extra, follow=False))
    assert done["Location"] == reverse("enrolment:done")
    count("Confirmation", lambda: client.get(reverse("enrolment:done")))
    return counts


def test_each_request_of_the_enrolment_stays_within_its_statements_and_does_not_grow(client, settings):
    # Production's shape: sessions read from the shared cache (CACHE_URL; here the process's
    # memory, shared by the test and the views).
    settings.SESSION_CACHE_ALIAS = "default"
    load_registries()
    EnrolmentRequestFactory()
    few = counted_walk(client)
    for label, statements in few.items():
        assert statements <= MAX_PER_REQUEST, f"{label} : {statements} requêtes SQL"
    # The guide's vendor again, its first request rejected (it no longer blocks a new one).
    EnrolmentRequest.objects.update(status=EnrolmentRequest.Status.REJECTED)
    EnrolmentRequestFactory.create_batch(60)
    client.cookies.clear()
    assert counted_walk(client) == few
